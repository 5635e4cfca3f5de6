"""The one interface every provider's sender implements."""

from __future__ import annotations

from typing import Protocol

import httpx

from gateway.dialogs.pages import render_options
from gateway.outbox.model import OutMessage, Receipt, SendError

__all__ = ["Sender", "require", "sms_text", "transport_error"]


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


def require(**values: str) -> None:
    """A sender's settings, refused when one is empty (a sender that cannot send)."""
    for field, value in values.items():
        if not value:
            raise ValueError(f"{field} is empty")


def transport_error(exc: httpx.TransportError) -> SendError:
    """A provider call that failed on the way: always retried. After a timeout or a read
    failure the request may have reached the provider: a rare duplicate is the price of
    never losing the message."""
    if isinstance(exc, httpx.TimeoutException):
        return SendError("timeout", retryable=True)
    if isinstance(exc, httpx.ConnectError):
        return SendError("connect", retryable=True)
    return SendError("transport", retryable=True)
