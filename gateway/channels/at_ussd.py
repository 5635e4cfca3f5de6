"""Africa's Talking USSD now lives in `gateway.channels.ussd.africastalking`, on the USSD core
every provider shares; this name stays for what imports it (tests, `bench/`)."""

from __future__ import annotations

from gateway.channels.ussd.africastalking import ROUTE, UssdRequest, parse_payload, router, verify
from gateway.channels.ussd.core import MAX_INPUT_CHARS, PROFILE

__all__ = [
    "MAX_INPUT_CHARS",
    "PROFILE",
    "ROUTE",
    "UssdRequest",
    "parse_payload",
    "router",
    "verify",
]
