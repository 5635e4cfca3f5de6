"""The outbox: a stream per priority, a delayed set, and idempotency markers.

```
enqueue ──SET NX idem──> XADD mg:{outbox}:q:<priority>  ──XREADGROUP (group "senders")──> worker
                                   ▲                                                    │
 mg:{outbox}:delayed (ZSET, due ms) ┘<── retry later (ZADD + XACK + XDEL, one script) ───┘
```

- `enqueue` records the idempotency key with SET NX before the entry exists, in one script:
  the same key is queued once, however often it is enqueued. A follow-up may also name a
  `guard` (one pending answer per phone and question), freed by `release_guard` when done.
- A worker `claim`s an entry before sending: if its key is already marked sent (a crashed
  worker sent it but did not acknowledge it), it is acknowledged and skipped; if another live
  worker holds its lease, it is left alone. After the send, `finish` marks the key sent.
- A stream entry holds the address and text until it is acknowledged, then it is deleted
  (XDEL): message bodies do not linger in Redis.

The streams are never trimmed. Bulk producers wait instead while the bulk backlog is past
its high water mark (`gate`, a `gateway.outbox.pressure.BulkGate`): `enqueue_many` waits at
it before queueing bulk messages; `enqueue`, one message a person is waiting for or asked
for, never waits.

Every key shares the hash tag `{outbox:<ns>}`, so each script stays on one Redis Cluster slot.
`Outbox` is the typed API producers and workers use; its keys, Lua scripts and stream calls
live in `gateway.state.outbox`, the entries' encoding in `gateway.outbox.entries`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from gateway.outbox.entries import Entry, encode
from gateway.outbox.model import MessageKind, OutChannel, OutMessage, outbound
from gateway.outbox.pressure import BulkGate
from gateway.resilience.metrics import Metrics
from gateway.state.connections import RedisClient
from gateway.state.outbox.keys import OutboxKeys
from gateway.state.outbox.pressure import BulkDepth
from gateway.state.outbox.priority import Priority
from gateway.state.outbox.streams import OutboxStreams

__all__ = ["Claim", "Outbox"]


@dataclass(frozen=True, slots=True)
class Claim:
    outcome: str  # "ok" (send it), "sent" (already sent: acknowledge), "busy" (leave it)
    token: str = ""
    provider_id: str = ""


class Outbox:
    """Producers' and workers' view of the outbox streams."""

    def __init__(self, redis: RedisClient, *, key_secret: bytes, prefix: str = "mg") -> None:
        if not key_secret:
            raise ValueError("key_secret must not be empty")
        self.redis = redis
        self._secret = key_secret
        self.keys = OutboxKeys(prefix, self.digest("", label="namespace")[:8])
        self.store = OutboxStreams(redis, self.keys)
        self.depth = BulkDepth(redis, self.keys)
        self.gate: BulkGate | None = None  # set by the runtime (GATEWAY_OUTBOX_*_WATER)

    def gated(
        self, *, high: int, low: int, poll_s: float = 1.0, metrics: Metrics | None = None
    ) -> BulkGate:
        """Give bulk producers a gate at these water marks (this process' only one)."""
        self.gate = BulkGate(self.depth, high=high, low=low, poll_s=poll_s, metrics=metrics)
        return self.gate

    @property
    def streams(self) -> list[str]:
        """The streams in the order they are served."""
        return self.store.streams

    def digest(self, value: str, *, label: str) -> str:
        """A keyed hash: idempotency keys and guards may hold what a user typed."""
        return hmac.new(self._secret, f"{label}\0{value}".encode(), hashlib.sha256).hexdigest()[:32]

    def key_h(self, msg: OutMessage) -> str:
        return self.digest(msg.key, label="idem")

    # --- producers ------------------------------------------------------------------------

    async def enqueue(
        self,
        msg: OutMessage,
        *,
        job: Mapping[str, Any] | None = None,
        guard: str | None = None,
        guard_ttl_s: int = 0,
    ) -> str | None:
        """Queue `msg`; its stream entry id, or None when its key (or `guard`) is taken."""
        guard_h = self.digest(guard, label="guard") if guard is not None else None
        return await self.store.enqueue(
            self.key_h(msg),
            msg.priority,
            encode(msg, job=job, guard=guard_h),
            guard_h=guard_h,
            guard_ttl_s=guard_ttl_s,
        )

    async def reply(self, channel: str, to: str, key: str, text: str) -> str | None:
        """Queue a plain text reply to `to` on `channel` (the helpdesk's `Send`), as `enqueue`."""
        msg = outbound(
            MessageKind.REPLY,
            key=key,
            channel=OutChannel(channel),
            to=to,
            text=text,
            now=datetime.now(UTC),
        )
        return await self.enqueue(msg)

    async def enqueue_many(self, msgs: Sequence[OutMessage]) -> int:
        """Queue many messages in one round trip (alerts); how many were new. Each is
        queued once per key, exactly as `enqueue` would (no job, no guard). Bulk messages
        wait first while the gate is shut (interactive ones in the same call do not make it
        wait)."""
        if not msgs:
            return 0
        if self.gate is not None and any(m.priority is Priority.BULK for m in msgs):
            await self.gate.wait()
        return await self.store.enqueue_many(
            [(self.key_h(msg), msg.priority, encode(msg)) for msg in msgs]
        )

    async def ensure_group(self) -> None:
        """Create the consumer group on every stream (idempotent)."""
        await self.store.ensure_group()

    # --- workers --------------------------------------------------------------------------

    async def read(
        self, consumer: str, streams: Sequence[str], *, count: int, block_ms: int | None = None
    ) -> Any:
        """New entries of `streams` for `consumer`, as Redis answers them (to decode)."""
        return await self.store.read(consumer, streams, count=count, block_ms=block_ms)

    async def reclaim(
        self, stream: str, consumer: str, *, min_idle_ms: int, start: str, count: int
    ) -> Any:
        """(next start, rows): entries of `stream` idle past `min_idle_ms` (their worker
        died), now `consumer`'s."""
        return await self.store.autoclaim(
            stream, consumer, min_idle_ms=min_idle_ms, start=start, count=count
        )

    async def claim(self, entry: Entry, *, lease_ms: int) -> Claim:
        token = secrets.token_hex(8)
        outcome, provider_id = await self.store.claim(self.key_h(entry.message), token, lease_ms)
        if outcome == "sent":
            return Claim("sent", provider_id=provider_id)
        return Claim(outcome, token=token)

    async def renew(self, entry: Entry, claim: Claim, *, lease_ms: int) -> bool:
        """Whether the claim still holds (renewed for `lease_ms`): asked just before a send,
        so a message that waited past its lease is never sent by two workers."""
        return await self.store.renew(self.key_h(entry.message), claim.token, lease_ms)

    async def finish(self, entry: Entry, claim: Claim, provider_id: str) -> None:
        """Mark the key sent (before the entry is acknowledged), free the lease and the
        follow-up's guard, in one script."""
        await self.store.finish(self.key_h(entry.message), claim.token, provider_id, entry.guard)

    async def release(self, entry: Entry, claim: Claim) -> None:
        await self.store.release(self.key_h(entry.message), claim.token)

    async def release_guard(self, entry: Entry) -> None:
        if entry.guard is not None:
            await self.store.release_guard(entry.guard)

    async def later(
        self,
        entry: Entry,
        msg: OutMessage,
        *,
        due_ms: int,
        tries: int = 0,
        job: Mapping[str, Any] | None = None,
    ) -> None:
        """Acknowledge `entry` and queue `msg` (with `job`, when it still has to be composed)
        again once Redis' clock passes `due_ms`."""
        again = encode(msg, job=job, guard=entry.guard, tries=tries)
        await self.store.later(entry.stream, entry.entry_id, again, due_ms)

    async def promote(self, *, limit: int = 500) -> int:
        """Move delayed entries that are due into their streams."""
        return await self.store.promote(limit)

    async def ack(self, entries: Sequence[Entry]) -> None:
        """Acknowledge and delete entries (their bodies leave Redis with them)."""
        if not entries:
            return
        await self.store.ack([(entry.stream, entry.entry_id) for entry in entries])

    async def dead_letter(self, stream: str, entry_id: str, fields: Mapping[str, str]) -> None:
        """Note an entry that cannot be read in `…:dead` (where it was, its field names and
        sizes: never its values, which may hold a phone and a text) and acknowledge it."""
        await self.store.dead_letter(stream, entry_id, fields)

    async def server_ms(self) -> int:
        return await self.store.server_ms()

    async def backlog(self) -> dict[str, int]:
        """Entries waiting per priority, and delayed ones (metrics, tests)."""
        return await self.store.backlog()

    async def ages_s(self) -> dict[str, float]:
        """Seconds the oldest entry of each priority has waited (0 when none waits)."""
        return {name: ms / 1000 for name, ms in (await self.store.ages_ms()).items()}
