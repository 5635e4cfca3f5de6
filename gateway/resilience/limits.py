"""Protection against load: a per-phone rate limit, a per-worker cap on turns in flight and
a per-worker cap on backend calls.

`RateLimiter` keeps, per phone, the instants of its recent turns in a sorted set
(`mg:{<hmac>}:turns`, scored by Redis server time, under the phone's hash tag like its
sessions: `gateway.state.keys`) and refuses a turn when `limit` already fall within the sliding
window. A turn counts itself inside its first script (`SessionStore.open_turn`, which uses
`key`, `limit` and `window_ms` from here); `hit` is the same rule on its own.

`BackendSlots` caps this worker's concurrent backend calls; a call that cannot get a slot
within its remaining deadline is *shed* at once instead of queueing behind the others.
`TurnGate` caps the turns a worker runs at once: past it, a turn is answered "busy" at
once, so an overloaded worker replies fast instead of growing a queue.

Errors:

    Shed (a BackendUnavailable, code="shed")   no slot freed within the caller's deadline
    (Redis errors pass through)
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from redis.asyncio import Redis

from backend_client import Deadline
from backend_client.errors import BackendUnavailable
from gateway.state.keys import Keys

__all__ = ["BackendSlots", "RateLimiter", "Shed", "TurnGate"]


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


# KEYS[1] the phone's set; ARGV: window ms, limit, member. Returns 1 if the turn may run.
_SLIDING_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], window)
return 1
"""


class RateLimiter:
    """`await hit(phone)` is True while the phone stays within `limit` turns per `window_s`."""

    def __init__(
        self,
        redis: Redis,
        *,
        key_secret: bytes,
        limit: int = 30,
        window_s: float = 60.0,
        prefix: str = "mg",
    ) -> None:
        if not key_secret:
            raise ValueError("key_secret must not be empty")
        if limit < 1 or window_s <= 0:
            raise ValueError("limit and window_s must be positive")
        self.limit = limit
        self.window_ms = max(1, round(window_s * 1000))
        self.prefix = prefix
        self._keys = Keys(key_secret, prefix=prefix)
        self._script = redis.register_script(_SLIDING_LUA)

    def key(self, phone: str) -> str:
        return self._keys.turns(phone)

    async def hit(self, phone: str) -> bool:
        """Count one turn for `phone`; False (and not counted) when over the limit."""
        allowed = await self._script(
            keys=[self.key(phone)], args=[self.window_ms, self.limit, secrets.token_hex(8)]
        )
        return bool(int(allowed))


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
