"""The pace of each channel, shared by every worker: a token bucket in Redis.

The bucket holds at most `burst` tokens and gains `rate` per second, on Redis' clock (workers'
clocks may disagree). A send takes one token; when none is left the caller learns how long to
wait. Inside one worker, `Pacer` asks for as many tokens as sends are waiting (one round trip
for all of them) and hands them out by priority, so an interactive reply waiting behind a
batch of alerts takes the next token, not the last.
"""

from __future__ import annotations

import heapq
import itertools

import anyio
from redis.asyncio import Redis

__all__ = ["Pacer", "TokenBucket"]

# KEYS[1] the bucket (hash: tokens, at ms). ARGV: rate per s, burst, tokens wanted.
# Returns {tokens taken (up to those wanted), ms until the next one when none was there}.
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate / 1000)
local taken = math.min(tonumber(ARGV[3]), math.floor(tokens))
local wait = 0
if taken >= 1 then
  tokens = tokens - taken
else
  taken = 0
  wait = math.ceil((1 - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 60000)
return {taken, wait}
"""


class TokenBucket:
    """`rate` sends per second, up to `burst` at once, for one channel across all workers."""

    def __init__(self, redis: Redis, key: str, *, rate: float, burst: int) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.key, self.rate, self.burst = key, rate, burst
        self._take = redis.register_script(_TAKE)

    async def take(self, wanted: int = 1) -> tuple[int, int]:
        """(tokens taken, at most `wanted`; when none, the milliseconds to wait for one)."""
        taken, wait_ms = await self._take(keys=[self.key], args=[self.rate, self.burst, wanted])
        return int(taken), int(wait_ms)


class Pacer:
    """Hands out one bucket's tokens to this worker's sends, highest priority first."""

    def __init__(self, bucket: TokenBucket) -> None:
        self.bucket = bucket
        self._waiting: list[tuple[int, int, anyio.Event]] = []
        self._order = itertools.count()
        self._lock = anyio.Lock()

    async def acquire(self, priority: int) -> None:
        """Wait until this send may go; lower `priority` values go first."""
        ticket = (priority, next(self._order), anyio.Event())
        heapq.heappush(self._waiting, ticket)
        try:
            while not ticket[2].is_set():
                async with self._lock:  # one asker at a time, for everyone waiting
                    if ticket[2].is_set():
                        break
                    taken, wait_ms = await self.bucket.take(len(self._waiting))
                    for _ in range(min(taken, len(self._waiting))):
                        heapq.heappop(self._waiting)[2].set()  # the highest priorities first
                    if taken == 0:
                        await anyio.sleep(wait_ms / 1000)
        except BaseException:
            if not ticket[2].is_set():
                self._waiting.remove(ticket)
                heapq.heapify(self._waiting)
            raise
