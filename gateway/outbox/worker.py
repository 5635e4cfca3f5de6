"""A sender worker: reads the outbox streams, sends at each channel's pace, records outcomes.

Any number of workers run at once (`python -m gateway worker`, one inside the demo's gateway
process). Each message goes:

    read (highest priority first) -> claim (sent already? leased by a live worker?)
      -> a follow-up's text composed (backend still down: try later, give up after max age)
      -> a token from the channel's bucket -> sender.send -> mark sent
      -> outcome recorded in SQL (batched) -> XACK + XDEL

At-least-once: an entry is acknowledged only after its outcome is recorded, so a worker that
dies leaves its entries pending, and another reclaims them (XAUTOCLAIM) once idle for
`reclaim_idle_ms`. Never twice: the key is marked sent before the entry is acknowledged, and a
reclaimed entry whose key is marked is only recorded. The one window left is a crash between
the provider's acceptance and the mark (one HTTP answer); the sink has none.

Retries: a retryable `SendError` queues the message again after a full-jitter exponential
backoff (or the provider's Retry-After), up to `max_attempts`; a permanent one is recorded as
failed at once. A malformed entry is moved to `mg:{outbox}:dead` and counted.
"""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol

import anyio
import structlog
from anyio.abc import TaskGroup
from redis.exceptions import RedisError, ResponseError
from sqlalchemy.exc import SQLAlchemyError

from gateway.failures import part_down
from gateway.outbox.model import OutChannel, OutMessage, Priority, SendError
from gateway.outbox.queue import GROUP, Claim, Entry, Malformed, Outbox, as_text, decode
from gateway.outbox.records import MessageRecords, Outcome
from gateway.outbox.senders.base import Sender
from gateway.outbox.throttle import Pacer
from gateway.resilience.metrics import Metrics

__all__ = ["Composer", "OutboxWorker", "WorkerConfig"]

log = structlog.get_logger("gateway.outbox")


class Composer(Protocol):
    async def compose(self, msg: OutMessage, job: Mapping[str, Any]) -> OutMessage | None:
        """The follow-up with its text (and options), or None while the backend cannot
        answer yet."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkerConfig:
    consumer: str
    concurrency: int = 16  # sends in flight in this worker
    reserve: int = 0  # slots kept free for interactive replies (default: a quarter)
    lease_ms: int = 60_000  # how long a claimed message is this worker's alone
    reclaim_idle_ms: int = 90_000  # a pending entry idle this long belonged to a dead worker
    reclaim_every_s: float = 5.0
    block_ms: int = 500  # below the Redis client's socket timeout (1 s)
    max_attempts: int = 8
    backoff_base_s: float = 1.0
    backoff_cap_s: float = 300.0
    followup_max_age_s: int = 7200
    followup_retry_base_s: float = 2.0
    followup_retry_cap_s: float = 60.0
    flush_every_s: float = 0.05
    flush_rows: int = 200
    purge_every_s: float = 600.0


def backoff_s(attempt: int, *, base: float, cap: float, rng: random.Random) -> float:
    """Full jitter: uniform in [0, min(cap, base * 2**attempt)] (AWS architecture blog)."""
    return rng.uniform(0, min(cap, base * 2 ** min(attempt, 30)))


class OutboxWorker:
    def __init__(
        self,
        outbox: Outbox,
        *,
        senders: Mapping[OutChannel, Sender],
        pacers: Mapping[OutChannel, Pacer],
        records: MessageRecords,
        config: WorkerConfig,
        composer: Composer | None = None,
        metrics: Metrics | None = None,
        rng: random.Random | None = None,
        on_opted_out: Callable[[OutChannel, str], Awaitable[None]] | None = None,
    ) -> None:
        self.outbox = outbox
        self.senders = senders
        self.pacers = pacers
        self.records = records
        self.config = config
        self.composer = composer
        self.metrics = metrics
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not secrets
        # Told of each address a provider says opted out (alerts record it: none is tried again).
        self.on_opted_out = on_opted_out
        self.reserve = config.reserve or max(1, config.concurrency // 4)
        self._in_flight = 0
        self._slot_freed = anyio.Event()
        self._outcomes: list[tuple[Outcome, Entry | None]] = []
        self._dead: list[tuple[str, str, dict[str, str]]] = []
        self._flushed = anyio.Event()
        self._flush_lock = anyio.Lock()

    # --- the loop -------------------------------------------------------------------------

    async def run(self, *, stop: anyio.Event | None = None) -> None:
        """Send until `stop` is set (or the task is cancelled), then finish what is in hand."""
        stop = stop or anyio.Event()
        await self.outbox.ensure_group()
        log.info("outbox_worker_started", consumer=self.config.consumer)
        async with anyio.create_task_group() as sending, anyio.create_task_group() as background:
            background.start_soon(self._flush_loop)
            background.start_soon(self._housekeeping, sending)
            try:
                with anyio.CancelScope() as fetching:
                    background.start_soon(_cancel_when_set, stop, fetching)
                    await self._fetch_loop(sending)
            finally:
                # Entries read but not started stay pending: another worker reclaims them.
                with anyio.CancelScope(shield=True):
                    await self._wait_idle()
                    await self._flush()
                background.cancel_scope.cancel()
        log.info("outbox_worker_stopped", consumer=self.config.consumer)

    async def _fetch_loop(self, tg: TaskGroup) -> None:
        while True:
            free = self.config.concurrency - self._in_flight
            if free <= 0 or len(self._outcomes) >= 10 * self.config.flush_rows:
                await self._wait_for_slot()
                continue
            try:
                entries = await self._read(free)
            except RedisError as exc:
                if isinstance(exc, ResponseError) and str(exc).startswith(("NOGROUP", "UNBLOCKED")):
                    # The streams went away (Redis restarted without persistence): again.
                    log.warning("outbox_group_missing")
                    await self.outbox.ensure_group()
                else:
                    part_down("redis", "outbox_read", exc)
                    await anyio.sleep(1.0)
                continue
            for entry in entries:
                self._in_flight += 1
                tg.start_soon(self._process, entry)

    async def _wait_for_slot(self) -> None:
        self._slot_freed = anyio.Event()
        with anyio.move_on_after(0.1):
            await self._slot_freed.wait()

    async def _wait_idle(self) -> None:
        while self._in_flight > 0:
            await self._wait_for_slot()

    async def _read(self, free: int) -> list[Entry]:
        """Up to `free` entries, from the highest priority that has any.

        Bulk and follow-ups leave `reserve` slots free for interactive replies. With nothing
        to read, a busy worker waits for one of its sends to finish (and then looks again);
        only an idle one blocks on the streams.
        """
        allowed = [
            (stream, free if priority is Priority.INTERACTIVE else free - self.reserve)
            for priority, stream in zip(Priority, self.outbox.streams, strict=True)
        ]
        allowed = [(stream, count) for stream, count in allowed if count > 0]
        for stream, count in allowed:
            found = await self.outbox.redis.xreadgroup(
                GROUP, self.config.consumer, {stream: ">"}, count=count
            )
            if found:
                return self._decode(found)
        if self._in_flight > 0:
            await self._wait_for_slot()
            return []
        found = await self.outbox.redis.xreadgroup(
            GROUP,
            self.config.consumer,
            {stream: ">" for stream, _ in allowed},
            count=min(count for _, count in allowed),
            block=self.config.block_ms,
        )
        return self._decode(found or [])

    def _decode(self, found: Any) -> list[Entry]:
        entries: list[Entry] = []
        for stream_name, rows in found:
            stream = as_text(stream_name)
            for entry_id, fields in rows:
                entries.extend(self._decode_one(stream, as_text(entry_id), fields))
        return entries

    def _decode_one(self, stream: str, entry_id: str, fields: Any) -> list[Entry]:
        if fields is None:  # deleted while pending (XAUTOCLAIM reports those apart)
            return []
        try:
            return [decode(stream, entry_id, fields)]
        except Malformed as exc:
            log.warning("outbox_entry_malformed", stream=stream, error=str(exc))
            raw = {as_text(k): as_text(v) for k, v in fields.items()}
            self._dead.append((stream, entry_id, raw))
            self._count("outbox_dead")
            return []

    # --- one message ----------------------------------------------------------------------

    async def _process(self, entry: Entry) -> None:
        try:
            await self._handle(entry)
        except (RedisError, SQLAlchemyError, OSError) as exc:
            # Left pending: reclaimed and tried again once the store answers.
            log.warning("outbox_message_deferred", error=type(exc).__name__)
        finally:
            self._in_flight -= 1
            self._slot_freed.set()

    async def _handle(self, entry: Entry) -> None:
        claim = await self.outbox.claim(entry, lease_ms=self.config.lease_ms)
        if claim.outcome == "busy":
            return  # a live worker has it; its acknowledgement will end it
        msg = entry.message
        if claim.outcome == "sent":  # sent before a crash; only the record is missing
            self._record(
                Outcome(message=msg, status="sent", at=_now(), provider_id=claim.provider_id), entry
            )
            await self.outbox.release_guard(entry)
            return
        release_lease = True
        try:
            if entry.job is not None:
                composed = await self._compose(entry)
                if composed is None:
                    return
                msg = composed
            sender = self.senders.get(msg.channel)
            if sender is None:
                raise SendError("no_sender", retryable=False)
            await self.pacers[msg.channel].acquire(int(msg.priority))
            # Composing and waiting for a token can outlast the lease: past it another worker
            # may hold the message, so it is sent only while the lease is still ours.
            if not await self.outbox.renew(entry, claim, lease_ms=self.config.lease_ms):
                log.info("outbox_lease_lost")
                release_lease = False  # not ours any more
                return
            receipt = await sender.send(msg)
            release_lease = False  # from here only the mark ends the lease, never a release
            await self._finish(entry, claim, receipt.provider_id)
            self._count(
                "outbox_sent", channel=msg.channel.value, sender=sender.name, kind=msg.kind.value
            )
            self._record(
                Outcome(
                    message=msg,
                    status="sent",
                    at=_now(),
                    sender=sender.name,
                    provider_id=receipt.provider_id,
                    text=msg.text,
                ),
                entry,
            )
        except SendError as exc:
            await self._failed(entry, msg, exc)
        except (RedisError, SQLAlchemyError, OSError):
            raise  # the stores: left pending, tried again once they answer
        except Exception as exc:
            # A bug in a sender or in composing must not stop the worker: it is retried
            # like a transient error, so it ends, failed, after max_attempts.
            log.exception("outbox_message_error")
            await self._failed(entry, msg, SendError(f"error:{type(exc).__name__}", retryable=True))
        finally:
            if release_lease:
                await self.outbox.release(entry, claim)

    async def _finish(self, entry: Entry, claim: Claim, provider_id: str) -> None:
        """Mark a sent message, trying a few times: until the mark is written, a Redis blip
        could let the message be reclaimed once the lease ends, and sent again."""
        with anyio.CancelScope(shield=True):
            for pause in (0.05, 0.2, 1.0, None):
                try:
                    await self.outbox.finish(entry, claim, provider_id)
                    return
                except RedisError:
                    if pause is None:
                        raise
                    await anyio.sleep(pause)

    async def _compose(self, entry: Entry) -> OutMessage | None:
        """The follow-up with its text; None when it was put back or given up."""
        msg = entry.message
        age_s = (_now() - msg.created_at).total_seconds()
        if age_s > self.config.followup_max_age_s or self.composer is None:
            log.info("followup_given_up", age_s=round(age_s))
            self._count("outbox_followups", outcome="expired")
            self._record(Outcome(message=msg, status="failed", at=_now(), error="expired"), entry)
            await self.outbox.release_guard(entry)
            return None
        composed = await self.composer.compose(msg, entry.job or {})
        if composed is None:
            # The backend still cannot answer: ask again later, the message stays queued.
            delay = backoff_s(
                entry.tries,
                base=min(self.config.followup_retry_base_s, self.config.followup_retry_cap_s),
                cap=self.config.followup_retry_cap_s,
                rng=self.rng,
            )
            await self.outbox.later(
                entry, msg, due_ms=await self._due(delay), tries=entry.tries + 1, job=entry.job
            )
            self._count("outbox_followups", outcome="waiting")
            self._record(Outcome(message=msg, status="queued", at=_now(), error="backend"), None)
            return None
        self._count("outbox_followups", outcome="composed")
        return composed

    async def _failed(self, entry: Entry, msg: OutMessage, exc: SendError) -> None:
        attempt = msg.attempt + 1
        if exc.retryable and attempt < self.config.max_attempts:
            delay = backoff_s(
                msg.attempt,
                base=self.config.backoff_base_s,
                cap=self.config.backoff_cap_s,
                rng=self.rng,
            )
            delay = max(delay, exc.retry_after_s or 0.0)
            again = replace(msg, attempt=attempt)
            # A composed follow-up is retried as the SMS it became, not composed again.
            job = entry.job if entry.job is not None and not msg.text else None
            await self.outbox.later(
                entry, again, due_ms=await self._due(delay), tries=entry.tries, job=job
            )
            log.info("outbox_retry", code=exc.code, attempt=attempt, delay_s=round(delay, 2))
            self._count("outbox_retries", channel=msg.channel.value)
            self._record(Outcome(message=again, status="queued", at=_now(), error=exc.code), None)
            return
        log.warning("outbox_failed", code=exc.code, attempt=attempt, retryable=exc.retryable)
        self._count("outbox_failed", channel=msg.channel.value, kind=msg.kind.value)
        if exc.opted_out and self.on_opted_out is not None:
            try:
                await self.on_opted_out(msg.channel, msg.to)
            except SQLAlchemyError as error:  # the provider keeps refusing meanwhile
                log.warning("outbox_opt_out_not_recorded", error=type(error).__name__)
        self._record(
            Outcome(message=msg, status="failed", at=_now(), error=exc.code, text=msg.text), entry
        )
        await self.outbox.release_guard(entry)

    async def _due(self, delay_s: float) -> int:
        return await self.outbox.server_ms() + int(delay_s * 1000)

    # --- outcomes: recorded in batches, then acknowledged ---------------------------------

    def _record(self, outcome: Outcome, entry: Entry | None) -> None:
        self._outcomes.append((outcome, entry))
        if len(self._outcomes) >= self.config.flush_rows:
            self._flushed.set()

    async def _flush_loop(self) -> None:
        while True:
            with anyio.move_on_after(self.config.flush_every_s):
                await self._flushed.wait()
            self._flushed = anyio.Event()
            await self._flush()

    async def _flush(self) -> None:
        """Record the outcomes in hand, then acknowledge their entries. One flush at a time,
        and a flush once started is not cancelled: stopping waits for it, so no batch is
        recorded without being acknowledged."""
        async with self._flush_lock:
            with anyio.CancelScope(shield=True):
                await self._flush_now()

    async def _flush_now(self) -> None:
        dead, self._dead = self._dead, []
        for stream, entry_id, raw in dead:
            try:
                await self.outbox.dead_letter(stream, entry_id, raw)
            except RedisError as exc:
                log.warning("outbox_dead_letter_failed", error=type(exc).__name__)
        if not self._outcomes:
            return
        batch, self._outcomes = self._outcomes, []
        try:
            await self.records.write(
                [outcome for outcome, _ in batch],
                [self.outbox.key_h(outcome.message) for outcome, _ in batch],
            )
            await self.outbox.ack([entry for _, entry in batch if entry is not None])
        except (SQLAlchemyError, RedisError, OSError) as exc:
            # Not acknowledged: the entries stay pending and are reclaimed; their keys are
            # already marked sent, so nothing goes out twice.
            log.warning("outbox_record_failed", error=type(exc).__name__, rows=len(batch))

    # --- housekeeping ---------------------------------------------------------------------

    async def _housekeeping(self, tg: TaskGroup) -> None:
        """Promote due retries, reclaim a dead worker's entries, purge old bodies."""
        last_reclaim = last_purge = 0.0
        while True:
            now = time.monotonic()
            try:
                await self.outbox.promote()
                if now - last_reclaim >= self.config.reclaim_every_s:
                    last_reclaim = now
                    await self._reclaim(tg)
            except RedisError as exc:
                log.warning("outbox_housekeeping_failed", error=type(exc).__name__)
            if now - last_purge >= self.config.purge_every_s:
                last_purge = now
                try:
                    purged = await self.records.purge_bodies()
                    if purged:
                        log.info("outbox_bodies_purged", count=purged)
                except SQLAlchemyError as exc:
                    part_down("database", "outbox_purge", exc)
            await anyio.sleep(0.2)

    async def _reclaim(self, tg: TaskGroup) -> None:
        """Take over entries idle past `reclaim_idle_ms` (their worker died), as many as this
        worker has free slots for; the rest wait for the next round."""
        for stream in self.outbox.streams:
            start = "0-0"
            while (free := self.config.concurrency - self._in_flight) > 0:
                result = await self.outbox.redis.xautoclaim(
                    stream,
                    GROUP,
                    self.config.consumer,
                    min_idle_time=self.config.reclaim_idle_ms,
                    start_id=start,
                    count=min(100, free),
                )
                start, rows = as_text(result[0]), result[1]
                entries = self._decode([(stream, rows)])
                if entries:
                    log.info("outbox_reclaimed", stream=stream, count=len(entries))
                    self._count("outbox_reclaimed", by=len(entries))
                for entry in entries:
                    self._in_flight += 1
                    tg.start_soon(self._process, entry)
                if start == "0-0":
                    break

    def _count(self, name: str, *, by: int = 1, **labels: str) -> None:
        if self.metrics is None:
            return
        counter = getattr(self.metrics, name)
        (counter.labels(**labels) if labels else counter).inc(by)


async def _cancel_when_set(event: anyio.Event, scope: anyio.CancelScope) -> None:
    await event.wait()
    scope.cancel()


def _now() -> datetime:
    return datetime.now(UTC)
