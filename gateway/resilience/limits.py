"""Protection against load: a per-worker cap on turns in flight and a per-worker cap on
backend calls (the per-phone rate limit is Redis': `gateway.state.resilience.limits`).

`BackendSlots` caps this worker's concurrent backend calls; a call that cannot get a slot
within its remaining deadline is *shed* at once instead of queueing behind the others.
`TurnGate` caps the turns a worker runs at once: past it, a turn is answered "busy" at
once, so an overloaded worker replies fast instead of growing a queue.

Errors:

    Shed (a BackendUnavailable, code="shed")   no slot freed within the caller's deadline
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio

from backend_client import Deadline
from backend_client.errors import BackendUnavailable

__all__ = ["BackendSlots", "Shed", "TurnGate"]


class Shed(BackendUnavailable):
    """The worker is at its cap of concurrent backend calls and none freed in time."""

    def __init__(self) -> None:
        super().__init__(code="shed")


class TurnGate:
    """At most `limit` turns in flight in this worker; `try_enter` says whether one may start."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit = limit
        self.in_flight = 0

    def try_enter(self) -> bool:
        if self.in_flight >= self.limit:
            return False
        self.in_flight += 1
        return True

    def leave(self) -> None:
        self.in_flight -= 1


class BackendSlots:
    """At most `limit` concurrent backend calls in this worker (`anyio.CapacityLimiter`)."""

    def __init__(self, limit: int = 64) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self._limiter = anyio.CapacityLimiter(limit)

    @property
    def in_use(self) -> int:
        return int(self._limiter.borrowed_tokens)

    @asynccontextmanager
    async def slot(self, deadline: Deadline) -> AsyncIterator[None]:
        """Hold a slot for the block; raise `Shed` if none frees before `deadline`."""
        token = object()  # a token per call, not per task: a turn's calls come one by one
        acquired = False
        with anyio.move_on_after(deadline.remaining()):
            await self._limiter.acquire_on_behalf_of(token)
            acquired = True
        if not acquired:
            raise Shed()
        try:
            yield
        finally:
            self._limiter.release_on_behalf_of(token)
