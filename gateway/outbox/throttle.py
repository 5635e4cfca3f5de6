"""The pace of each channel, shared by every worker: a token bucket in Redis
(`gateway.state.outbox.bucket`).

The bucket holds at most `burst` tokens and gains `rate` per second, on Redis' clock (workers'
clocks may disagree). A send takes one token; when none is left the caller learns how long to
wait. Inside one worker, `Pacer` asks for as many tokens as sends are waiting (one round trip
for all of them) and hands them out by priority, so an interactive reply waiting behind a
batch of alerts takes the next token, not the last.

An SMS also takes tokens from its operator link's bucket (`LinkPacers`: one token per part,
`GATEWAY_OUTBOX_RATE_SMS_LINKS`), so each link keeps to its own SMPP bind's throughput while
the provider-wide bucket keeps to the provider's.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Mapping
from typing import Any

import anyio

from gateway.outbox.model import OutMessage
from gateway.state.outbox.bucket import TokenBucket

__all__ = ["LinkPacers", "Pacer"]


class Pacer:
    """Hands out one bucket's tokens to this worker's sends, highest priority first."""

    def __init__(self, bucket: TokenBucket) -> None:
        self.bucket = bucket
        # [priority, order, tokens still needed, event]: a heap by (priority, order).
        self._waiting: list[list[Any]] = []
        self._order = itertools.count()
        self._lock = anyio.Lock()

    async def acquire(self, priority: int, tokens: int = 1) -> None:
        """Wait until this send may go (`tokens`: a link counts each part of an SMS); lower
        `priority` values go first. Tokens come in as the bucket grants them: a send that
        needs several keeps those it got while it waits for the rest."""
        ticket: list[Any] = [priority, next(self._order), max(1, tokens), anyio.Event()]
        heapq.heappush(self._waiting, ticket)
        try:
            while not ticket[3].is_set():
                async with self._lock:  # one asker at a time, for everyone waiting
                    if ticket[3].is_set():
                        break
                    wanted = sum(t[2] for t in self._waiting)
                    taken, wait_ms = await self.bucket.take(wanted)
                    while taken > 0 and self._waiting:  # the highest priorities first
                        head = self._waiting[0]
                        given = min(taken, head[2])
                        head[2] -= given
                        taken -= given
                        if head[2] == 0:
                            heapq.heappop(self._waiting)[3].set()
                    if wait_ms > 0:
                        await anyio.sleep(wait_ms / 1000)
        except BaseException:
            if not ticket[3].is_set():
                self._waiting.remove(ticket)
                heapq.heapify(self._waiting)
            raise


class LinkPacers:
    """The pace of each operator link (a Kannel smsc-id) beside the channel's: a bucket per
    link named in `rates`, whose tokens are SMS parts. A message's link is its sender's
    choice (`link_of`: the Kannel sender's routes); a link with no pace of its own, or none,
    is paced by the channel's bucket alone."""

    def __init__(
        self,
        buckets: Mapping[str, TokenBucket],
        *,
        link_of: Callable[[OutMessage], str | None],
        parts_of: Callable[[OutMessage], int],
    ) -> None:
        self.pacers = {link: Pacer(bucket) for link, bucket in buckets.items()}
        self.link_of, self.parts_of = link_of, parts_of

    async def acquire(self, msg: OutMessage) -> str | None:
        """Wait for `msg`'s link to take its parts; the link (None: no pace of its own)."""
        link = self.link_of(msg)
        pacer = self.pacers.get(link) if link is not None else None
        if pacer is None:
            return None
        await pacer.acquire(int(msg.priority), self.parts_of(msg))
        return link
