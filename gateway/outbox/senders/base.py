"""The one interface every provider's sender implements."""

from __future__ import annotations

from typing import Protocol

from gateway.dialogs.pages import render_options
from gateway.outbox.model import OutMessage, Receipt

__all__ = ["Sender", "sms_text"]


class Sender(Protocol):
    """Sends one message to one provider; raises `SendError` when it did not go through.

    A sender holds no per-message state: the outbox calls it from many tasks at once. It is
    built once per process from the settings and closed by `aclose()`.
    """

    name: str  # "sink", "twilio", ... (metrics labels, message records)

    async def send(self, msg: OutMessage) -> Receipt: ...

    async def aclose(self) -> None: ...


def sms_text(msg: OutMessage) -> str:
    """What an SMS carries: the text, then its options as numbered lines (no buttons)."""
    if not msg.options:
        return msg.text
    return f"{msg.text}\n{render_options(msg.options)}"
