"""What the app runs in its own process besides answering requests, when asked or when Redis
is the in-process stand-in: a sender worker and the alerts consumer over the app's runtime,
each started again after a failure instead of taking the app down with it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio
import structlog

from gateway.runtime import Runtime
from gateway.settings import Settings

__all__ = ["embedded_alerts", "embedded_sender", "run_embedded_alerts", "run_embedded_sender"]

log = structlog.get_logger("gateway")

RESTART_AFTER_S = 5.0


async def run_embedded_sender(runtime: Runtime, stop: anyio.Event) -> None:
    """The app's own sender worker, started again after a failure instead of taking the app
    down with it (Redis unreachable at start-up, a bug)."""
    await _keep_running(lambda: runtime.worker().run(stop=stop), stop, "outbox_worker_failed")


async def run_embedded_alerts(runtime: Runtime, stop: anyio.Event) -> None:
    """The app's own alerts consumer (issue 15), restarted the same way."""
    await _keep_running(lambda: runtime.alerts().run(stop=stop), stop, "alerts_consumer_failed")


async def _keep_running(run: Callable[[], Awaitable[None]], stop: anyio.Event, failed: str) -> None:
    while not stop.is_set():
        try:
            await run()
        except Exception:
            log.exception(failed)
            with anyio.move_on_after(RESTART_AFTER_S):
                await stop.wait()


def embedded_sender(settings: Settings) -> bool:
    """Whether the app sends from its own process: asked, or Redis is the in-process stand-in."""
    if settings.embedded_sender is not None:
        return settings.embedded_sender
    return settings.redis_url is None


def embedded_alerts(settings: Settings) -> bool:
    """Whether the app consumes the change feed itself: asked, or Redis is the stand-in."""
    if settings.embedded_alerts is not None:
        return settings.embedded_alerts
    return settings.redis_url is None
