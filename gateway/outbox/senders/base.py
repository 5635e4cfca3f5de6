"""The one interface every provider's sender implements."""

from __future__ import annotations

from typing import Protocol

from gateway.outbox.model import OutMessage, Receipt

__all__ = ["Sender"]


class Sender(Protocol):
    """Sends one message to one provider; raises `SendError` when it did not go through.

    A sender holds no per-message state: the outbox calls it from many tasks at once. It is
    built once per process from the settings and closed by `aclose()`.
    """

    name: str  # "sink", "twilio", ... (metrics labels, message records)

    async def send(self, msg: OutMessage) -> Receipt: ...

    async def aclose(self) -> None: ...
