"""Backpressure on bulk producers: the outbox's streams are never trimmed, so producers of
bulk messages (the alerts consumer, its morning releases and digests, `Outbox.enqueue_many`)
wait while the bulk backlog is deep instead.

```
bulk depth (XLEN of …:q:2) > high water ──> shut: bulk producers wait (the alerts consumer
                                             stops reading the change feed, its cursor stays)
bulk depth < low water                  ──> open again
```

Two marks (hysteresis), so the gate does not flap around one number: once shut it stays shut
until the workers have drained `high - low` messages. What waits is not lost: unread changes
stay in the backend's feed behind the consumer's cursor (it moves only past what was
queued). Interactive replies and follow-ups never pass through the gate.

Each process keeps its own gate state over the shared depth; `massar_outbox_bulk_pauses_total`
counts each shutting, `massar_outbox_bulk_waiting` is 1 while this process' gate is shut.
"""

from __future__ import annotations

from typing import Protocol

import anyio
import structlog

from gateway.resilience.metrics import Metrics

__all__ = ["BulkGate", "Depth"]

log = structlog.get_logger("gateway.outbox")


class Depth(Protocol):
    """How many bulk messages wait (`gateway.state.outbox.pressure.BulkDepth`)."""

    async def read(self) -> int: ...


class BulkGate:
    """Shut while the bulk backlog passed `high` and has not yet fallen below `low`."""

    def __init__(
        self,
        depth: Depth,
        *,
        high: int,
        low: int,
        poll_s: float = 1.0,
        metrics: Metrics | None = None,
    ) -> None:
        if not 0 <= low < high:
            raise ValueError("the low water mark must be below the high one")
        self.depth, self.high, self.low, self.poll_s = depth, high, low, poll_s
        self.metrics = metrics
        self.paused = False
        self.pauses = 0  # times this gate shut (tests, bench)
        self.last_depth = 0

    async def open(self) -> bool:
        """Read the depth once; whether bulk messages may be queued now."""
        depth = self.last_depth = await self.depth.read()
        if self.paused and depth < self.low:
            self.paused = False
            log.info("outbox_bulk_resumed", depth=depth, low_water=self.low)
            if self.metrics is not None:
                self.metrics.outbox_bulk_waiting.set(0)
        elif not self.paused and depth > self.high:
            self.paused = True
            self.pauses += 1
            log.info("outbox_bulk_paused", depth=depth, high_water=self.high)
            if self.metrics is not None:
                self.metrics.outbox_bulk_pauses.inc()
                self.metrics.outbox_bulk_waiting.set(1)
        return not self.paused

    async def wait(self) -> None:
        """Until the gate is open (at once when it is)."""
        while not await self.open():  # noqa: ASYNC110 - the depth is another process' work
            await anyio.sleep(self.poll_s)
