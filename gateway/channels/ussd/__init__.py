"""USSD: one provider-neutral core (`core`) and a module per provider that hands its requests
over to it: `africastalking` (form posts, `*`-joined path), `kannel` (operators' SMPP USSD
gateways through Kannel's smsbox), `orange` (an operator's xHTML pages, #303#-style).

A provider module names its channel (`CHANNEL`, a `GATEWAY_CHANNELS` value) and its `router`;
`routers` finds them, so a new provider is its module and its fixture table.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Collection

from fastapi import APIRouter


def routers(channels: Collection[str]) -> list[APIRouter]:
    """The routers of the USSD providers whose channel is in `channels`, by module name."""
    found: list[APIRouter] = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        channel = getattr(module, "CHANNEL", None)
        if channel is not None and channel in channels:
            found.append(module.router)
    return found
