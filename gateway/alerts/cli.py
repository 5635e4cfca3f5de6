"""`python -m gateway alerts`: the change-feed consumer; run it in as many processes as you
like, one of them (the lease holder) reads the feed at a time."""

from __future__ import annotations

import anyio
import structlog

from gateway import logs
from gateway.outbox.cli import stop_on_signal
from gateway.runtime import open_runtime
from gateway.settings import Settings

log = structlog.get_logger("gateway.alerts")


async def run_alerts(settings: Settings) -> None:
    """Consume until SIGTERM or SIGINT; the batch in hand is finished first."""
    logs.configure(json_logs=settings.json_logs, level=settings.log_level, file=settings.log_file)
    async with open_runtime(settings) as runtime, anyio.create_task_group() as tasks:
        stop = anyio.Event()
        tasks.start_soon(stop_on_signal, stop, "alerts_consumer_stopping")
        await runtime.alerts().run(stop=stop)
        tasks.cancel_scope.cancel()
