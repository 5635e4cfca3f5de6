"""A channel's pace, shared by every worker: a token bucket in Redis, on Redis' clock.

The bucket holds at most `burst` tokens and gains `rate` per second (workers' clocks may
disagree, Redis' is the one). A send takes one token; when none is left the caller learns how
long to wait. `gateway.outbox.throttle.Pacer` shares one bucket among a worker's sends;
`ChatBuckets` keeps one per Telegram chat (about one message a second into each).
"""

from __future__ import annotations

from collections.abc import Callable

from redis.asyncio import Redis

from gateway.state.errors import translated
from gateway.state.lua import lua
from gateway.state.outbox.keys import OutboxKeys
from gateway.state.outbox.scripts import TAKE

__all__ = ["ChatBuckets", "TokenBucket"]


@translated
class TokenBucket:
    """`rate` sends per second, up to `burst` at once, for one channel across all workers."""

    def __init__(
        self,
        redis: Redis,
        key: str,
        *,
        rate: float,
        burst: int,
        clock: Callable[[], int] | None = None,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.key, self.rate, self.burst = key, rate, burst
        self.clock = clock  # milliseconds (tests); None: Redis' clock
        self._take = lua(redis, TAKE)

    async def take(self, wanted: int = 1) -> tuple[int, int]:
        """(tokens taken, at most `wanted`; when none, the milliseconds to wait for one)."""
        args: list[float | int] = [self.rate, self.burst, wanted]
        if self.clock is not None:
            args.append(self.clock())
        taken, wait_ms = await self._take(keys=[self.key], args=args)
        return int(taken), int(wait_ms)


@translated
class ChatBuckets:
    """A bucket per chat (`OutboxKeys.chat_bucket`), `rate` sends per second, one at a time."""

    def __init__(self, redis: Redis, keys: OutboxKeys, *, rate: float) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.keys, self.rate = keys, rate
        self._take = lua(redis, TAKE)

    async def take(self, chat_h: str) -> tuple[int, int]:
        """(1, 0) when chat `chat_h` (a keyed hash of its id) may have a message now, else
        (0, the milliseconds to wait)."""
        key = self.keys.chat_bucket(chat_h)
        taken, wait_ms = await self._take(keys=[key], args=[self.rate, 1, 1])
        return int(taken), int(wait_ms)
