"""The per-phone rate limit in Redis: the instants of a phone's recent turns.

A sorted set per phone, `mg:{<hmac>}:turns` (`Keys.turns`: under the phone's hash tag, like
its sessions), scored by Redis server time; a turn is refused when `limit` already fall within
the sliding window. A turn counts itself inside its first script (`SessionStore.open_turn`,
which uses `key`, `limit` and `window_ms` from here); `hit` is the same rule on its own.
Errors: `StoreUnavailable` when Redis does not answer.
"""

from __future__ import annotations

import secrets

from redis.asyncio import Redis

from gateway.state.errors import translated
from gateway.state.keyring import KeyRing
from gateway.state.keys import Keys
from gateway.state.lua import lua

__all__ = ["RateLimiter"]


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


@translated
class RateLimiter:
    """`await hit(phone)` is True while the phone stays within `limit` turns per `window_s`."""

    def __init__(
        self,
        redis: Redis,
        *,
        key_secret: bytes | KeyRing,
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
        self._script = lua(redis, _SLIDING_LUA)

    def key(self, phone: str) -> str:
        return self._keys.turns(phone)

    async def hit(self, phone: str) -> bool:
        """Count one turn for `phone`; False (and not counted) when over the limit."""
        allowed = await self._script(
            keys=[self.key(phone)], args=[self.window_ms, self.limit, secrets.token_hex(8)]
        )
        return bool(int(allowed))
