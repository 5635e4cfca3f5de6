"""The circuit breaker's record in Redis: one hash per breaker, moved only by Lua scripts.

`mg:{breaker}:<name>` (`Keys.breaker`; the name is a route family such as `massar`, never user
data) holds `state` (0 closed, 1 open, 2 half-open), `since`, the probes let through while
half-open, and the failures counted in the current window. Every move reads the time with
`redis.call('TIME')`, so workers whose clocks disagree still agree on the breaker. What the
states mean for a call is `gateway.resilience.breaker`'s.
"""

from __future__ import annotations

from redis.asyncio import Redis

from gateway.state.errors import translated
from gateway.state.lua import lua

__all__ = ["BreakerRecord"]

# Shared Lua prelude: server time in ms, the stored state, and the open -> half-open move.
_PRELUDE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local cooldown = tonumber(ARGV[1])
local state = tonumber(redis.call('HGET', KEYS[1], 'state') or '0')
local since = tonumber(redis.call('HGET', KEYS[1], 'since') or '0')
if state == 1 and now - since >= cooldown then
  state = 2
  since = now
  redis.call('HSET', KEYS[1], 'state', 2, 'since', now, 'probes', 0)
end
if state == 2 and now - since >= cooldown then
  -- probes that never reported (a worker died mid-call): let new ones through
  since = now
  redis.call('HSET', KEYS[1], 'since', now, 'probes', 0)
end
"""

# ARGV: cooldown ms, max probes. Returns {allowed 0|1, state, ms until a retry may pass}.
_ALLOW_LUA = (
    _PRELUDE
    + """
if state == 0 then return {1, 0, 0} end
if state == 1 then return {0, 1, cooldown - (now - since)} end
local probes = tonumber(redis.call('HGET', KEYS[1], 'probes') or '0')
if probes < tonumber(ARGV[2]) then
  redis.call('HINCRBY', KEYS[1], 'probes', 1)
  return {1, 2, 0}
end
return {0, 2, cooldown - (now - since)}
"""
)

# ARGV: cooldown ms, ok 1|0, failure threshold, window ms, ttl ms. Returns the new state.
_RECORD_LUA = (
    _PRELUDE
    + """
local ok = ARGV[2] == '1'
if state == 2 then
  if ok then
    redis.call('DEL', KEYS[1])
    return 0
  end
  redis.call('HSET', KEYS[1], 'state', 1, 'since', now, 'probes', 0)
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
  return 1
end
if state == 1 or ok then return state end
local start = tonumber(redis.call('HGET', KEYS[1], 'wstart') or '0')
local fails = tonumber(redis.call('HGET', KEYS[1], 'fails') or '0')
if now - start > tonumber(ARGV[4]) then
  start = now
  fails = 0
end
fails = fails + 1
if fails >= tonumber(ARGV[3]) then
  redis.call('HSET', KEYS[1], 'state', 1, 'since', now, 'fails', 0, 'wstart', now)
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
  return 1
end
redis.call('HSET', KEYS[1], 'wstart', start, 'fails', fails)
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 0
"""
)

# ARGV: cooldown ms. Returns the state as callers would see it now (no probe taken).
_STATE_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = tonumber(redis.call('HGET', KEYS[1], 'state') or '0')
local since = tonumber(redis.call('HGET', KEYS[1], 'since') or '0')
if state == 1 and now - since >= tonumber(ARGV[1]) then return 2 end
return state
"""


@translated
class BreakerRecord:
    """One breaker's record at `key`; times in milliseconds, states as stored (0, 1, 2)."""

    def __init__(self, redis: Redis, key: str) -> None:
        self.redis = redis
        self.key = key
        self._allow = lua(redis, _ALLOW_LUA)
        self._record = lua(redis, _RECORD_LUA)
        self._state = lua(redis, _STATE_LUA)

    async def allow(self, *, cooldown_ms: int, probes: int) -> tuple[bool, int, int]:
        """(may a call go now, the state, ms until a retry may pass); a probe is taken."""
        allowed, state, wait_ms = (
            int(x) for x in await self._allow(keys=[self.key], args=[cooldown_ms, probes])
        )
        return bool(allowed), state, wait_ms

    async def record(
        self, ok: bool, *, cooldown_ms: int, failures: int, window_ms: int, ttl_ms: int
    ) -> int:
        """Count one call's outcome; the state after it."""
        args = [cooldown_ms, 1 if ok else 0, failures, window_ms, ttl_ms]
        return int(await self._record(keys=[self.key], args=args))

    async def state(self, *, cooldown_ms: int) -> int:
        """The state as callers would see it now (no probe taken)."""
        return int(await self._state(keys=[self.key], args=[cooldown_ms]))

    async def reset(self) -> None:
        await self.redis.delete(self.key)
