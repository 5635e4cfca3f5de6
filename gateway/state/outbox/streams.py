"""The outbox's streams in Redis: a stream per priority, a delayed set, idempotency markers.

```
enqueue ──SET NX idem──> XADD mg:{outbox}:q:<priority>  ──XREADGROUP (group "senders")──> worker
                                   ▲                                                    │
 mg:{outbox}:delayed (ZSET, due ms) ┘<── retry later (ZADD + XACK + XDEL, one script) ───┘
```

`OutboxStreams` speaks in key hashes and encoded entries (`gateway.outbox.entries`); the
typed API over it, with messages and claims, is `gateway.outbox.queue.Outbox`. Each call is
one round trip: a script (`gateway.state.outbox.scripts`) or a pipeline.

Errors: `StoreUnavailable` when Redis does not answer; `StreamMissing` when a worker reads a
stream (or its group) that went away, as when Redis restarted without persistence.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from gateway.state.errors import StoreError, translated
from gateway.state.lua import lua
from gateway.state.outbox import scripts
from gateway.state.outbox.keys import OutboxKeys
from gateway.state.outbox.priority import Priority

__all__ = [
    "DEAD_MAXLEN",
    "GROUP",
    "IDEMPOTENCY_TTL_S",
    "SENT_TTL_S",
    "OutboxStreams",
    "StreamMissing",
    "as_text",
]

GROUP = "senders"
IDEMPOTENCY_TTL_S = 7 * 24 * 3600  # longer than any retry or follow-up can wait
SENT_TTL_S = 7 * 24 * 3600
# The priority streams are never trimmed: an entry leaves only once its message is done (sent,
# failed, or put back for later), so no queued message is lost at any backlog; bulk producers
# wait at a high-water mark instead (`gateway.outbox.pressure`). Only the dead-letter stream,
# a note of entries that could not be read (never a message), is capped.
DEAD_MAXLEN = 10_000


class StreamMissing(StoreError):
    """A stream or its consumer group went away under a reader: `ensure_group`, then again."""


def _missing(exc: ResponseError) -> bool:
    return str(exc).startswith(("NOGROUP", "UNBLOCKED"))


def as_text(value: object) -> str:
    """A Redis reply as text (clients may or may not decode responses)."""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


@translated
class OutboxStreams:
    """The Redis calls of one deployment's outbox (`keys`)."""

    def __init__(self, redis: Redis, keys: OutboxKeys) -> None:
        self.redis = redis
        self.keys = keys
        self._enqueue = lua(redis, scripts.ENQUEUE)
        self._claim = lua(redis, scripts.CLAIM)
        self._finish = lua(redis, scripts.FINISH)
        self._renew = lua(redis, scripts.RENEW)
        self._release = lua(redis, scripts.RELEASE)
        self._later = lua(redis, scripts.LATER)
        self._promote = lua(redis, scripts.PROMOTE)

    @property
    def streams(self) -> list[str]:
        """The streams in the order they are served."""
        return [self.keys.stream(p) for p in Priority]

    # --- producers ------------------------------------------------------------------------

    async def enqueue(
        self, key_h: str, priority: Priority, entry: str, *, guard_h: str | None, guard_ttl_s: int
    ) -> str | None:
        """XADD `entry` unless its key (or its guard) is taken; its entry id, or None."""
        idem = self.keys.idem(key_h)
        result = await self._enqueue(
            keys=[
                idem,
                self.keys.stream(priority),
                self.keys.guard(guard_h) if guard_h is not None else idem,
            ],
            args=[
                entry,
                IDEMPOTENCY_TTL_S,
                max(1, guard_ttl_s),
                "1" if guard_h is not None else "0",
            ],
        )
        text = as_text(result)
        return None if text in ("dup", "guarded") else text

    async def enqueue_many(self, entries: Sequence[tuple[str, Priority, str]]) -> int:
        """(key hash, priority, entry) each queued once per key, in one round trip; how many
        were new."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for key_h, priority, entry in entries:
                idem = self.keys.idem(key_h)
                await self._enqueue(
                    keys=[idem, self.keys.stream(priority), idem],
                    args=[entry, IDEMPOTENCY_TTL_S, 1, "0"],
                    client=pipe,
                )
            results = await pipe.execute()
        return sum(1 for r in results if as_text(r) not in ("dup", "guarded"))

    async def ensure_group(self) -> None:
        """Create the consumer group on every stream (idempotent)."""
        for stream in self.streams:
            try:
                await self.redis.xgroup_create(stream, GROUP, id="0", mkstream=True)
            except ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise

    # --- workers --------------------------------------------------------------------------

    async def read(
        self, consumer: str, streams: Sequence[str], *, count: int, block_ms: int | None = None
    ) -> Any:
        """New entries for `consumer` (XREADGROUP), as Redis answers them."""
        try:
            return await self.redis.xreadgroup(
                GROUP, consumer, {stream: ">" for stream in streams}, count=count, block=block_ms
            )
        except ResponseError as exc:
            if _missing(exc):
                raise StreamMissing(str(exc).split(" ", 1)[0]) from exc
            raise

    async def autoclaim(
        self, stream: str, consumer: str, *, min_idle_ms: int, start: str, count: int
    ) -> Any:
        """Entries of `stream` idle past `min_idle_ms`, now `consumer`'s (XAUTOCLAIM)."""
        return await self.redis.xautoclaim(
            stream, GROUP, consumer, min_idle_time=min_idle_ms, start_id=start, count=count
        )

    async def claim(self, key_h: str, token: str, lease_ms: int) -> tuple[str, str]:
        """("ok", "") leased to `token`, ("sent", provider id) or ("busy", "")."""
        result = await self._claim(
            keys=[self.keys.sent(key_h), self.keys.lease(key_h)], args=[token, lease_ms]
        )
        outcome = as_text(result[0])
        return outcome, as_text(result[1]) if outcome == "sent" else ""

    async def renew(self, key_h: str, token: str, lease_ms: int) -> bool:
        held = await self._renew(
            keys=[self.keys.sent(key_h), self.keys.lease(key_h)], args=[token, lease_ms]
        )
        return bool(held)

    async def finish(self, key_h: str, token: str, provider_id: str, guard_h: str | None) -> None:
        lease = self.keys.lease(key_h)
        guard = self.keys.guard(guard_h) if guard_h is not None else lease
        await self._finish(
            keys=[self.keys.sent(key_h), lease, guard], args=[provider_id, SENT_TTL_S, token]
        )

    async def release(self, key_h: str, token: str) -> None:
        await self._release(keys=[self.keys.lease(key_h)], args=[token])

    async def release_guard(self, guard_h: str) -> None:
        await self.redis.delete(self.keys.guard(guard_h))

    async def later(self, stream: str, entry_id: str, entry: str, due_ms: int) -> None:
        await self._later(keys=[self.keys.delayed, stream], args=[GROUP, entry_id, entry, due_ms])

    async def promote(self, limit: int) -> int:
        moved = await self._promote(keys=[self.keys.delayed, *self.streams], args=[limit])
        return int(moved)

    async def ack(self, entries: Sequence[tuple[str, str]]) -> None:
        """Acknowledge and delete (stream, entry id) pairs."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for stream, entry_id in entries:
                pipe.xack(stream, GROUP, entry_id)
                pipe.xdel(stream, entry_id)
            await pipe.execute()

    async def dead_letter(self, stream: str, entry_id: str, fields: Mapping[str, str]) -> None:
        async with self.redis.pipeline(transaction=False) as pipe:
            shape = ",".join(f"{name}:{len(value)}" for name, value in fields.items())
            pipe.xadd(
                self.keys.dead,
                {"stream": stream, "entry": entry_id, "fields": shape[:500]},
                maxlen=DEAD_MAXLEN,
                approximate=True,
            )
            pipe.xack(stream, GROUP, entry_id)
            pipe.xdel(stream, entry_id)
            await pipe.execute()

    async def server_ms(self) -> int:
        seconds, micros = await self.redis.time()
        return int(seconds) * 1000 + int(micros) // 1000

    async def backlog(self) -> dict[str, int]:
        async with self.redis.pipeline(transaction=False) as pipe:
            for stream in self.streams:
                pipe.xlen(stream)
            pipe.zcard(self.keys.delayed)
            counts = await pipe.execute()
        names = [p.name.lower() for p in Priority] + ["delayed"]
        return dict(zip(names, (int(c) for c in counts), strict=True))

    async def ages_ms(self) -> dict[str, int]:
        """Per priority, how long its stream's oldest entry has waited (ms, by Redis' clock;
        0 for an empty stream). Entries are deleted once done, so the first one left is the
        oldest not yet sent; its id starts with the millisecond it was added."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for stream in self.streams:
                pipe.xrange(stream, "-", "+", count=1)
            firsts = await pipe.execute()
        now_ms = await self.server_ms()  # not in the pipeline: a cluster's refuses TIME
        ages: dict[str, int] = {}
        for priority, first in zip(Priority, firsts, strict=True):
            added_ms = int(as_text(first[0][0]).partition("-")[0]) if first else now_ms
            ages[priority.name.lower()] = max(0, now_ms - added_ms)
        return ages
