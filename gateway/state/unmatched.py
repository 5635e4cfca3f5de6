"""Messages nobody understood: counted (`massar_unmatched`) and kept, masked, for an operator
to grow the vocabularies from (`python -m gateway unmatched --since 7d`, `gateway.unmatched`).

The engine emits an `unmatched` event whose text is already masked (no digits, no known
names: `gateway.dialogs.masking`); the turn runner hands its events here. They go to one
Redis stream, `mg:{unmatched}:log`, an entry per message with the masked text, the dialog
state, the reply language and the channel — never a phone number or a hash of one. Entries
older than the retention are trimmed at each write (XADD MINID, exact: the volume is small),
and the stream is capped at `MAX_ENTRIES` whatever the traffic.

Why Redis and not the SQL database: nothing here needs a schema migration; time-based
trimming is one command, so old entries disappear without a purge job (data minimisation);
every worker already writes Redis in the turn; the hash tag keeps the key on one slot in a
Redis Cluster. What is lost with Redis (a flush, a failover without persistence) is a
learning aid, not a record anybody relies on.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError
from redis.typing import EncodableT, FieldT

from gateway.dialogs.model import Event, Inbound
from gateway.state.errors import translated
from gateway.state.keys import UNMATCHED_LOG

log = structlog.get_logger("gateway.unmatched")

MAX_ENTRIES = 100_000
EVENT = "unmatched"
HELPDESK_EVENT = "helpdesk"  # the parent chose "talk to a person" and wrote their question


@dataclass(frozen=True, slots=True, kw_only=True)
class Unmatched:
    """One kept message."""

    at: datetime
    text: str
    state: str
    lang: str
    channel: str


class _Count(Protocol):
    def inc(self, amount: float = 1) -> None: ...


class _Counter(Protocol):
    def labels(self, **labels: str) -> _Count: ...


class Counts(Protocol):
    """Where the events are counted: `gateway.resilience.metrics.Metrics` (its
    `massar_unmatched`), passed in so the state layer knows no metrics module."""

    @property
    def unmatched(self) -> _Counter: ...


class Handover(Protocol):
    """Where a message nobody understood goes for a person to answer (the console's helpdesk
    queue, `gateway.console.helpdesk`): it gets the whole input, not the masked text."""

    async def unmatched(self, inbound: Inbound, lang: str) -> None: ...


@translated
class UnmatchedLog:
    """Counts and keeps the `unmatched` events of turns; reads them back for the CLI."""

    def __init__(
        self,
        redis: Redis,
        *,
        retention_s: int,
        metrics: Counts | None = None,
        key: str = UNMATCHED_LOG,
        handover: Handover | None = None,
    ) -> None:
        self.redis = redis
        self.retention_s = retention_s
        self.metrics = metrics
        self.key = key
        self.handover = handover

    async def record(
        self, events: Iterable[Event], *, channel: str, inbound: Inbound | None = None
    ) -> None:
        """Count and keep every `unmatched` event; a Redis failure loses the entry only.
        With a `handover` and the `inbound`, the message also goes to the helpdesk queue, and
        so does a `helpdesk` event's (a question for a person: neither counted nor kept)."""
        for event in events:
            if event.kind == HELPDESK_EVENT:
                if self.handover is not None and inbound is not None:
                    await self.handover.unmatched(inbound, str(event.data.get("lang", "")))
                continue
            if event.kind != EVENT:
                continue
            lang = str(event.data.get("lang", ""))
            if self.handover is not None and inbound is not None:
                await self.handover.unmatched(inbound, lang)
            if self.metrics is not None:
                self.metrics.unmatched.labels(channel=channel, lang=lang).inc()
            entry: dict[FieldT, EncodableT] = {
                "text": str(event.data.get("text", "")),
                "state": str(event.data.get("state", "")),
                "lang": lang,
                "channel": channel,
            }
            oldest_ms = int((time.time() - self.retention_s) * 1000)
            try:
                async with self.redis.pipeline(transaction=False) as pipe:
                    pipe.xadd(self.key, entry, minid=oldest_ms, approximate=False)
                    pipe.xtrim(self.key, maxlen=MAX_ENTRIES, approximate=True)
                    await pipe.execute()
            except RedisError as exc:
                log.warning("unmatched_not_kept", error=type(exc).__name__)

    async def since(self, seconds: int, *, now: float | None = None) -> list[Unmatched]:
        """Entries of the last `seconds`, oldest first."""
        start_ms = int(((now or time.time()) - seconds) * 1000)
        rows = await self.redis.xrange(self.key, min=f"{max(start_ms, 0)}-0", max="+") or []
        return [_entry(entry_id, fields or {}) for entry_id, fields in rows]


def _entry(entry_id: Any, fields: dict[Any, Any]) -> Unmatched:
    def text(name: str) -> str:
        value = fields.get(name.encode(), fields.get(name, b""))
        return value.decode() if isinstance(value, bytes) else str(value)

    raw_id = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
    at = datetime.fromtimestamp(int(raw_id.split("-")[0]) / 1000, UTC)
    return Unmatched(
        at=at,
        text=text("text"),
        state=text("state"),
        lang=text("lang"),
        channel=text("channel"),
    )
