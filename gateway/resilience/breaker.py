"""A circuit breaker shared by every worker, kept in one Redis hash
(`gateway.state.resilience.breaker`).

    closed ──N failures within window_s──> open ──cooldown_s──> half-open
       ^                                    ^                      │
       └──────────── a probe succeeds ──────┼── a probe fails ─────┘

In half-open, at most `probes` calls go through at once; the others are refused as if open.
Every transition runs in Lua and reads the time with `redis.call('TIME')`, so workers whose
clocks disagree still agree on the breaker. A worker remembers an open breaker locally for
the time Redis said is left (a duration, so its own clock's offset does not matter) and
skips the round trip meanwhile.

Key: `mg:{breaker}:<name>` (the name is a route family such as `massar`, never user data).
Errors: `BreakerOpen` (a `BackendUnavailable`, `code="breaker-open"`); the store's pass.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum

from backend_client.errors import BackendUnavailable
from gateway.state.connections import RedisClient
from gateway.state.keys import Keys
from gateway.state.resilience.breaker import BreakerRecord

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


class Breaker:
    """`allow()` before a backend call, `record(ok)` after it; `state()` for /readyz."""

    def __init__(
        self,
        redis: RedisClient,
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
        self.store = BreakerRecord(redis, Keys.breaker(name, prefix=prefix))
        self._cooldown_ms = max(1, round(self.config.cooldown_s * 1000))
        self._window_ms = max(1, round(self.config.window_s * 1000))
        # The record outlives a cool-down and a window: an idle breaker forgets itself.
        self._ttl_ms = 2 * (self._cooldown_ms + self._window_ms)
        self._clock = clock
        self._on_state = on_state
        self._open_until: float | None = None  # on this worker's clock

    @property
    def key(self) -> str:
        return self.store.key

    async def allow(self) -> None:
        """Return if a call may go now (a probe, when half-open); raise `BreakerOpen` if not."""
        if self._open_until is not None:
            left = self._open_until - self._clock()
            if left > 0:
                raise BreakerOpen(left)
            self._open_until = None
        allowed, state, wait_ms = await self.store.allow(
            cooldown_ms=self._cooldown_ms, probes=self.config.probes
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
            await self.store.record(
                ok,
                cooldown_ms=self._cooldown_ms,
                failures=self.config.failures,
                window_ms=self._window_ms,
                ttl_ms=self._ttl_ms,
            )
        )
        if state is not BreakerState.OPEN:
            self._open_until = None
        self._seen(state)
        return state

    async def state(self) -> BreakerState:
        state = BreakerState(await self.store.state(cooldown_ms=self._cooldown_ms))
        self._seen(state)
        return state

    async def reset(self) -> None:
        """Close the breaker (an operator's or a test's hand)."""
        await self.store.reset()
        self._open_until = None
        self._seen(BreakerState.CLOSED)

    def _seen(self, state: BreakerState) -> None:
        if self._on_state is not None:
            self._on_state(state)
