"""Gauges read when Prometheus scrapes the app's /metrics: whether Redis and the database
answer (`massar_store_up`), Redis' memory against its limit, the outbox's backlog, and the
shared breaker's state. A part that does not answer within the scrape's budget reads as down;
nothing here raises for a part that is down."""

from __future__ import annotations

import anyio
import anyio.to_thread
import structlog

from gateway.failures import part_of
from gateway.outbox.gauges import observe_backlog
from gateway.outbox.queue import Outbox
from gateway.resilience import Breaker
from gateway.resilience.metrics import Metrics
from gateway.state.errors import StoreError
from gateway.state.probes import EngineProbe

__all__ = ["SCRAPE_BUDGET_S", "refresh"]

log = structlog.get_logger("gateway.metrics")

SCRAPE_BUDGET_S = 2.0  # per engine; well inside Prometheus' default scrape timeout (10 s)


async def refresh(
    metrics: Metrics, *, probe: EngineProbe, outbox: Outbox, breaker: Breaker
) -> None:
    """Set the gauges from the engines, each within `SCRAPE_BUDGET_S`."""
    redis_up = False
    with anyio.move_on_after(SCRAPE_BUDGET_S):
        redis_up = await _redis(metrics, probe, outbox, breaker)
    metrics.store_up.labels(part="redis").set(1 if redis_up else 0)
    database_up = False
    with anyio.move_on_after(SCRAPE_BUDGET_S):
        database_up = await _database(probe)
    metrics.store_up.labels(part="database").set(1 if database_up else 0)


async def _redis(metrics: Metrics, probe: EngineProbe, outbox: Outbox, breaker: Breaker) -> bool:
    try:
        await probe.ping_redis()
    except (StoreError, OSError):
        return False
    try:
        memory = await probe.redis_memory()
        metrics.redis_memory_used.set(memory.used)
        metrics.redis_memory_max.set(memory.limit)
    except (StoreError, OSError) as exc:  # INFO refused (a managed Redis, the stand-in)
        log.info("metrics_redis_memory_unread", error=type(exc).__name__)
    try:
        await observe_backlog(outbox, metrics)
        await breaker.state()  # refreshes its gauge from the shared state
    except Exception as exc:  # the outbox and the breaker still raise the driver's errors
        if part_of(exc) is None and not isinstance(exc, OSError):
            raise
        log.info("metrics_redis_read_failed", error=type(exc).__name__)
    return True


async def _database(probe: EngineProbe) -> bool:
    try:
        await anyio.to_thread.run_sync(probe.ping_database, abandon_on_cancel=True)
    except (StoreError, OSError):
        return False
    return True
