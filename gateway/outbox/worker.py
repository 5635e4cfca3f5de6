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

Here: the loop (reading by priority, the slots, housekeeping: due retries promoted, a dead
worker's entries reclaimed, old bodies purged); one message's way is `gateway.outbox.sending`,
the batched outcomes `gateway.outbox.outcomes`, the settings `gateway.outbox.worker_config`.
"""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import anyio
import structlog
from anyio.abc import TaskGroup

from gateway.failures import part_down
from gateway.outbox.entries import Entry, Malformed, decode
from gateway.outbox.gauges import observe_backlog
from gateway.outbox.model import OutChannel
from gateway.outbox.outcomes import OutcomeBatch
from gateway.outbox.queue import Outbox
from gateway.outbox.senders.base import Sender
from gateway.outbox.sending import MessageSending
from gateway.outbox.throttle import LinkPacers, Pacer
from gateway.outbox.worker_config import Composer, WorkerConfig, count_metric
from gateway.resilience.metrics import Metrics
from gateway.state.errors import StoreUnavailable
from gateway.state.outbox.priority import Priority
from gateway.state.outbox.records import MessageRecords
from gateway.state.outbox.streams import StreamMissing, as_text

__all__ = ["OutboxWorker"]

log = structlog.get_logger("gateway.outbox")


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
        links: LinkPacers | None = None,
    ) -> None:
        self.outbox = outbox
        self.records = records
        self.config = config
        self.metrics = metrics
        self.reserve = config.reserve or max(1, config.concurrency // 4)
        self._in_flight = 0
        self._slot_freed = anyio.Event()
        self.outcomes = OutcomeBatch(outbox, records, config)
        self.sending = MessageSending(
            outbox,
            senders=senders,
            pacers=pacers,
            outcomes=self.outcomes,
            config=config,
            composer=composer,
            metrics=metrics,
            rng=rng or random.Random(),  # noqa: S311 - jitter, not secrets
            # Told of each address a provider says opted out (alerts record it: none is
            # tried again).
            on_opted_out=on_opted_out,
            links=links,  # SMS: each operator link's pace, beside the channel's
        )

    # --- the loop -------------------------------------------------------------------------

    async def run(self, *, stop: anyio.Event | None = None) -> None:
        """Send until `stop` is set (or the task is cancelled), then finish what is in hand."""
        stop = stop or anyio.Event()
        await self.outbox.ensure_group()
        log.info("outbox_worker_started", consumer=self.config.consumer)
        async with anyio.create_task_group() as sending, anyio.create_task_group() as background:
            background.start_soon(self.outcomes.loop)
            background.start_soon(self._housekeeping, sending)
            try:
                with anyio.CancelScope() as fetching:
                    background.start_soon(_cancel_when_set, stop, fetching)
                    await self._fetch_loop(sending)
            finally:
                # Entries read but not started stay pending: another worker reclaims them.
                with anyio.CancelScope(shield=True):
                    await self._wait_idle()
                    await self.outcomes.flush()
                background.cancel_scope.cancel()
        log.info("outbox_worker_stopped", consumer=self.config.consumer)

    async def _fetch_loop(self, tg: TaskGroup) -> None:
        while True:
            free = self.config.concurrency - self._in_flight
            if free <= 0 or self.outcomes.pending >= 10 * self.config.flush_rows:
                await self._wait_for_slot()
                continue
            try:
                entries = await self._read(free)
            except StreamMissing:
                # The streams went away (Redis restarted without persistence): again.
                log.warning("outbox_group_missing")
                await self.outbox.ensure_group()
                continue
            except StoreUnavailable as exc:
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
            found = await self.outbox.read(self.config.consumer, [stream], count=count)
            if found:
                return self._decode(found)
        if self._in_flight > 0:
            await self._wait_for_slot()
            return []
        found = await self.outbox.read(
            self.config.consumer,
            [stream for stream, _ in allowed],
            count=min(count for _, count in allowed),
            block_ms=self.config.block_ms,
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
            self.outcomes.dead(stream, entry_id, raw)
            count_metric(self.metrics, "outbox_dead")
            return []

    # --- one message ----------------------------------------------------------------------

    async def _process(self, entry: Entry) -> None:
        try:
            await self.sending.handle(entry)
        except (StoreUnavailable, OSError) as exc:
            # Left pending: reclaimed and tried again once the store answers.
            log.warning("outbox_message_deferred", error=type(exc).__name__)
        finally:
            self._in_flight -= 1
            self._slot_freed.set()

    # --- housekeeping ---------------------------------------------------------------------

    async def _housekeeping(self, tg: TaskGroup) -> None:
        """Promote due retries, reclaim a dead worker's entries (and read the backlog's
        gauges), purge old bodies."""
        last_reclaim = last_purge = 0.0
        while True:
            now = time.monotonic()
            try:
                await self.outbox.promote()
                if now - last_reclaim >= self.config.reclaim_every_s:
                    last_reclaim = now
                    await self._reclaim(tg)
                    if self.metrics is not None:  # the worker's --metrics-port tells too
                        await observe_backlog(self.outbox, self.metrics)
            except StoreUnavailable as exc:
                log.warning("outbox_housekeeping_failed", error=type(exc).__name__)
            if now - last_purge >= self.config.purge_every_s:
                last_purge = now
                try:
                    purged = await self.records.purge_bodies()
                    if purged:
                        log.info("outbox_bodies_purged", count=purged)
                except StoreUnavailable as exc:
                    part_down("database", "outbox_purge", exc)
            await anyio.sleep(0.2)

    async def _reclaim(self, tg: TaskGroup) -> None:
        """Take over entries idle past `reclaim_idle_ms` (their worker died), as many as this
        worker has free slots for; the rest wait for the next round."""
        for stream in self.outbox.streams:
            start = "0-0"
            while (free := self.config.concurrency - self._in_flight) > 0:
                result = await self.outbox.reclaim(
                    stream,
                    self.config.consumer,
                    min_idle_ms=self.config.reclaim_idle_ms,
                    start=start,
                    count=min(100, free),
                )
                start, rows = as_text(result[0]), result[1]
                entries = self._decode([(stream, rows)])
                if entries:
                    log.info("outbox_reclaimed", stream=stream, count=len(entries))
                    count_metric(self.metrics, "outbox_reclaimed", by=len(entries))
                for entry in entries:
                    self._in_flight += 1
                    tg.start_soon(self._process, entry)
                if start == "0-0":
                    break


async def _cancel_when_set(event: anyio.Event, scope: anyio.CancelScope) -> None:
    await event.wait()
    scope.cancel()
