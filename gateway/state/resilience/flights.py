"""The single-flight leases in Redis: who is fetching a cache entry for every worker.

A lease is the cache entry's key plus `:sf` (`Keys.flight_lease`), in the entry's hash tag
(one cluster slot). It holds its winner's token while the winner fetches, or `FAILED` for a
moment after the winner failed, so the joiners fail fast instead of stampeding. How long to
wait and when to give up is `gateway.resilience.singleflight`'s.
"""

from __future__ import annotations

import contextlib

from redis.asyncio import Redis
from redis.exceptions import RedisError

from gateway.state.errors import translated
from gateway.state.lua import lua

__all__ = ["FAILED", "FlightLeases"]

FAILED = b"failed"

# KEYS[1] lease; ARGV: token, lease ms, may replace a failure mark 1|0, the failure mark.
_ACQUIRE_LUA = """
local held = redis.call('GET', KEYS[1])
if held and not (ARGV[3] == '1' and held == ARGV[4]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', tonumber(ARGV[2]))
return 1
"""

# KEYS[1] lease; ARGV[1] holder's token, ARGV[2] new value or "" to delete, ARGV[3] ttl ms.
_HANDOVER_LUA = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '' then return redis.call('DEL', KEYS[1]) end
redis.call('SET', KEYS[1], ARGV[2], 'PX', tonumber(ARGV[3]))
return 1
"""


@translated
class FlightLeases:
    """`acquire`, `holder` and `release` one lease; a lease lives `lease_ms` at most."""

    def __init__(self, redis: Redis, *, lease_ms: int, failure_mark_ms: int) -> None:
        self.redis = redis
        self.lease_ms = lease_ms
        self.failure_mark_ms = failure_mark_ms
        self._handover = lua(redis, _HANDOVER_LUA)
        self._acquire = lua(redis, _ACQUIRE_LUA)

    async def acquire(self, lease: str, token: str, *, over_failure: bool) -> bool:
        """Take `lease` for `token` if nobody holds it (or, `over_failure`, only a failure
        mark does); whether it is ours."""
        taken = await self._acquire(
            keys=[lease], args=[token, self.lease_ms, 1 if over_failure else 0, FAILED]
        )
        return bool(int(taken))

    async def holder(self, lease: str) -> bytes | str | None:
        """The token holding `lease`, `FAILED`, or None when nobody holds it."""
        held: bytes | str | None = await self.redis.get(lease)
        return held

    async def release(self, lease: str, token: str, *, failed: bool) -> None:
        """Free `lease` if `token` still holds it, leaving the failure mark when `failed`.
        Never raises for Redis: a lease that could not be freed expires on its own."""
        mark = FAILED if failed else b""
        with contextlib.suppress(RedisError):
            await self._handover(keys=[lease], args=[token, mark, self.failure_mark_ms])
