"""A circuit breaker shared by every worker, kept in one Redis hash.

    closed ──N failures within window_s──> open ──cooldown_s──> half-open
       ^                                    ^                      │
       └──────────── a probe succeeds ──────┼── a probe fails ─────┘

In half-open, at most `probes` calls go through at once; the others are refused as if open.
Every transition runs in Lua and reads the time with `redis.call('TIME')`, so workers whose
clocks disagree still agree on the breaker. A worker remembers an open breaker locally for
the time Redis said is left (a duration, so its own clock's offset does not matter) and
skips the round trip meanwhile.

Key: `mg:{breaker}:<name>` (the name is a route family such as `massar`, never user data).
Errors: `BreakerOpen` (a `BackendUnavailable`, `code="breaker-open"`); Redis errors pass.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum

from redis.asyncio import Redis

from backend_client.errors import BackendUnavailable

__all__ = ["Breaker", "BreakerConfig", "BreakerOpen", "BreakerState"]


class BreakerState(IntEnum):
    """The metrics gauge's values."""

    CLOSED = 0
    OPEN = 1
    HALF_OPEN = 2


class BreakerOpen(BackendUnavailable):
    """The shared breaker refuses calls to the backend for now."""

    def __init__(self, retry_in_s: float | None = None) -> None:
        super().__init__(code="breaker-open", retry_after=retry_in_s)


@dataclass(frozen=True, slots=True, kw_only=True)
class BreakerConfig:
    failures: int = 5
    window_s: float = 30.0
    cooldown_s: float = 15.0
    probes: int = 2


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


class Breaker:
    """`allow()` before a backend call, `record(ok)` after it; `state()` for /readyz."""

    def __init__(
        self,
        redis: Redis,
        *,
        name: str = "massar",
        config: BreakerConfig | None = None,
        prefix: str = "mg",
        clock: Callable[[], float] = time.monotonic,
        on_state: Callable[[BreakerState], None] | None = None,
    ) -> None:
        self.config = config or BreakerConfig()
        if self.config.failures < 1 or self.config.probes < 1:
            raise ValueError("failures and probes must be at least 1")
        self.redis = redis
        self.key = f"{prefix}:{{breaker}}:{name}"
        self._cooldown_ms = max(1, round(self.config.cooldown_s * 1000))
        self._window_ms = max(1, round(self.config.window_s * 1000))
        # The record outlives a cool-down and a window: an idle breaker forgets itself.
        self._ttl_ms = 2 * (self._cooldown_ms + self._window_ms)
        self._clock = clock
        self._on_state = on_state
        self._open_until: float | None = None  # on this worker's clock
        self._allow = redis.register_script(_ALLOW_LUA)
        self._record = redis.register_script(_RECORD_LUA)
        self._state = redis.register_script(_STATE_LUA)

    async def allow(self) -> None:
        """Return if a call may go now (a probe, when half-open); raise `BreakerOpen` if not."""
        if self._open_until is not None:
            left = self._open_until - self._clock()
            if left > 0:
                raise BreakerOpen(left)
            self._open_until = None
        allowed, state, wait_ms = (
            int(x)
            for x in await self._allow(
                keys=[self.key], args=[self._cooldown_ms, self.config.probes]
            )
        )
        self._seen(BreakerState(state))
        if not allowed:
            wait_s = max(0, wait_ms) / 1000
            if state == BreakerState.OPEN:
                self._open_until = self._clock() + wait_s
            raise BreakerOpen(wait_s)

    async def record(self, ok: bool) -> BreakerState:
        """Count one call's outcome (a timeout or an unavailable backend is not ok)."""
        state = BreakerState(
            int(
                await self._record(
                    keys=[self.key],
                    args=[
                        self._cooldown_ms,
                        1 if ok else 0,
                        self.config.failures,
                        self._window_ms,
                        self._ttl_ms,
                    ],
                )
            )
        )
        if state is not BreakerState.OPEN:
            self._open_until = None
        self._seen(state)
        return state

    async def state(self) -> BreakerState:
        state = BreakerState(int(await self._state(keys=[self.key], args=[self._cooldown_ms])))
        self._seen(state)
        return state

    async def reset(self) -> None:
        """Close the breaker (an operator's or a test's hand)."""
        await self.redis.delete(self.key)
        self._open_until = None
        self._seen(BreakerState.CLOSED)

    def _seen(self, state: BreakerState) -> None:
        if self._on_state is not None:
            self._on_state(state)
