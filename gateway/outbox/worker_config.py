"""What a sender worker is given: its settings, the follow-ups' composer, the backoff."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from gateway.outbox.model import OutMessage
from gateway.resilience.metrics import Metrics

__all__ = ["Composer", "WorkerConfig", "backoff_s", "count_metric"]


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


def count_metric(metrics: Metrics | None, name: str, *, by: int = 1, **labels: str) -> None:
    """Add `by` to the counter `name` (with `labels`), when metrics are kept."""
    if metrics is None:
        return
    counter = getattr(metrics, name)
    (counter.labels(**labels) if labels else counter).inc(by)
