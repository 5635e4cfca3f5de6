"""A worker's outcomes, recorded in SQL in batches, then their entries acknowledged.

At-least-once: an entry is acknowledged only after its outcome is recorded; a batch that
cannot be recorded is left pending (reclaimed later; its keys are already marked sent, so
nothing goes out twice). Malformed entries noted meanwhile go to `…:dead` first.
"""

from __future__ import annotations

import anyio
import structlog

from gateway.outbox.entries import Entry
from gateway.outbox.model import OutMessage
from gateway.outbox.queue import Outbox
from gateway.outbox.worker_config import WorkerConfig
from gateway.state.errors import StoreUnavailable
from gateway.state.outbox.records import MessageRecords, Outcome

__all__ = ["OutcomeBatch"]

log = structlog.get_logger("gateway.outbox")


class OutcomeBatch:
    """Outcomes in hand, flushed every `flush_every_s` or `flush_rows` rows."""

    def __init__(self, outbox: Outbox, records: MessageRecords, config: WorkerConfig) -> None:
        self.outbox = outbox
        self.records = records
        self.config = config
        self._outcomes: list[tuple[Outcome[OutMessage], Entry | None]] = []
        self._dead: list[tuple[str, str, dict[str, str]]] = []
        self._flushed = anyio.Event()
        self._flush_lock = anyio.Lock()

    @property
    def pending(self) -> int:
        """Outcomes not recorded yet."""
        return len(self._outcomes)

    def dead(self, stream: str, entry_id: str, raw: dict[str, str]) -> None:
        """Note an entry that cannot be read: moved to `…:dead` at the next flush."""
        self._dead.append((stream, entry_id, raw))

    def record(self, outcome: Outcome[OutMessage], entry: Entry | None) -> None:
        self._outcomes.append((outcome, entry))
        if len(self._outcomes) >= self.config.flush_rows:
            self._flushed.set()

    async def loop(self) -> None:
        while True:
            with anyio.move_on_after(self.config.flush_every_s):
                await self._flushed.wait()
            self._flushed = anyio.Event()
            await self.flush()

    async def flush(self) -> None:
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
            except StoreUnavailable as exc:
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
        except (StoreUnavailable, OSError) as exc:
            # Not acknowledged: the entries stay pending and are reclaimed; their keys are
            # already marked sent, so nothing goes out twice.
            log.warning("outbox_record_failed", error=type(exc).__name__, rows=len(batch))
