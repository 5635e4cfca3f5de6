"""One active alerts consumer among many processes: a lease in Redis, renewed while held.

Whoever holds `mg:{alerts:<ns>}:lease` reads the change feed; the others wait and take over
once it lapses (a consumer that died stops renewing it). Correctness does not rest on the
lease alone: two consumers that overlap for a moment send nothing twice, because every
message's idempotency key is checked by the outbox and held alerts are unique per event and
phone. The lease only keeps the others from doing the same work.
"""

from __future__ import annotations

import secrets

from redis.asyncio import Redis

from gateway.state.errors import translated
from gateway.state.lua import lua

__all__ = ["Lease"]

# KEYS: lease. ARGV: token, ttl ms. 1 when held by us (taken or renewed), else 0.
_HOLD = """
local owner = redis.call('GET', KEYS[1])
if owner == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if not owner and redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
return 0
"""

# KEYS: lease. ARGV: token.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


@translated
class Lease:
    def __init__(self, redis: Redis, key: str, *, ttl_s: float) -> None:
        self.key = key
        self.ttl_ms = int(ttl_s * 1000)
        self.token = secrets.token_hex(8)
        self._hold = lua(redis, _HOLD)
        self._release = lua(redis, _RELEASE)

    async def hold(self) -> bool:
        """Take the lease, or renew it if it is ours; False while another process holds it."""
        return bool(await self._hold(keys=[self.key], args=[self.token, self.ttl_ms]))

    async def release(self) -> None:
        await self._release(keys=[self.key], args=[self.token])
