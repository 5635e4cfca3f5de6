"""The outbox's backlog as gauges: entries waiting and the oldest one's age, per priority
(`massar_outbox_backlog`, `massar_outbox_oldest_age_seconds`). Set when the app's /metrics
is scraped and by each sender worker's loop, so whichever process Prometheus reaches tells."""

from __future__ import annotations

from gateway.outbox.queue import Outbox
from gateway.resilience.metrics import Metrics

__all__ = ["observe_backlog"]


async def observe_backlog(outbox: Outbox, metrics: Metrics) -> None:
    """Read the backlog (one round trip each for sizes and ages) into `metrics`."""
    for priority, size in (await outbox.backlog()).items():
        metrics.outbox_backlog.labels(priority=priority).set(size)
    for priority, age_s in (await outbox.ages_s()).items():
        metrics.outbox_oldest_age.labels(priority=priority).set(age_s)
