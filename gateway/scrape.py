"""Gauges read when Prometheus scrapes the app's /metrics: whether Redis and the database
answer (`massar_store_up`, by `/readyz`'s own pings), Redis' memory against its limit, the
outbox's backlog, and the shared breaker's state. A part that does not answer within the
scrape's budget reads as down; nothing here raises for a part that is down."""

from __future__ import annotations

import anyio
import anyio.to_thread
import structlog

from gateway.outbox.gauges import observe_backlog
from gateway.runtime import Runtime
from gateway.state.errors import StoreError
from gateway.state.health import ping_database, ping_redis, redis_memory

__all__ = ["SCRAPE_BUDGET_S", "refresh"]

log = structlog.get_logger("gateway.metrics")

SCRAPE_BUDGET_S = 2.0  # per engine; well inside Prometheus' default scrape timeout (10 s)


async def refresh(runtime: Runtime) -> None:
    """Set the gauges from the engines, each within `SCRAPE_BUDGET_S`."""
    metrics = runtime.metrics
    redis_up = False
    with anyio.move_on_after(SCRAPE_BUDGET_S):
        redis_up = await _redis(runtime)
    metrics.store_up.labels(part="redis").set(1 if redis_up else 0)
    database_up = False
    with anyio.move_on_after(SCRAPE_BUDGET_S):
        checked = await anyio.to_thread.run_sync(ping_database, runtime.db, abandon_on_cancel=True)
        database_up = bool(checked["ok"])
    metrics.store_up.labels(part="database").set(1 if database_up else 0)


async def _redis(runtime: Runtime) -> bool:
    metrics = runtime.metrics
    if not (await ping_redis(runtime.redis, runtime.redis_kind))["ok"]:
        return False
    memory = await redis_memory(runtime.redis)
    if memory is not None:
        metrics.redis_memory_used.set(memory.used)
        metrics.redis_memory_max.set(memory.limit)
    try:
        await observe_backlog(runtime.outbox, metrics)
        await runtime.backend.breaker.state()  # refreshes its gauge from the shared state
    except (StoreError, OSError) as exc:
        log.info("metrics_redis_read_failed", error=type(exc).__name__)
    return True
