"""The pace of each channel, shared by every worker: a token bucket in Redis
(`gateway.state.outbox.bucket`).

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

from gateway.state.outbox.bucket import TokenBucket

__all__ = ["Pacer"]


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
