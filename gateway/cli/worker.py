"""`python -m gateway worker`: one sender process; run as many as the providers' pace needs."""

from __future__ import annotations

import argparse
import signal
import sys

import anyio
import structlog

from gateway import logs
from gateway.cli.settings import load_settings
from gateway.cli.start import announce, engines_ok, require_shared_redis
from gateway.settings import Settings

log = structlog.get_logger("gateway.outbox")


async def run_worker(
    settings: Settings, *, consumer: str | None = None, metrics_port: int | None = None
) -> None:
    """Send until SIGTERM or SIGINT, then finish the messages in hand and stop."""
    from gateway.runtime import open_runtime  # not for `--help`: it loads every part

    logs.configure(json_logs=settings.json_logs, level=settings.log_level, file=settings.log_file)
    async with open_runtime(settings) as runtime, anyio.create_task_group() as tasks:
        if metrics_port is not None:
            from prometheus_client import start_http_server

            start_http_server(metrics_port, addr=settings.host, registry=runtime.metrics.registry)
        stop = anyio.Event()
        tasks.start_soon(stop_on_signal, stop, "outbox_worker_stopping")
        await runtime.worker(consumer=consumer).run(stop=stop)
        tasks.cancel_scope.cancel()


async def stop_on_signal(stop: anyio.Event, event: str) -> None:
    """Set `stop` at the first SIGTERM or SIGINT (logged as `event`)."""
    with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        async for _ in signals:
            log.info(event)
            stop.set()
            return


def worker(args: argparse.Namespace) -> int:
    from gateway.migrate import SchemaOutdated

    settings = load_settings()
    require_shared_redis(settings, "gateway worker")
    logs.configure(json_logs=settings.json_logs, level=settings.log_level, file=settings.log_file)
    if not anyio.run(engines_ok, settings):
        return 1
    announce("worker", settings, serves="no", sends="yes", alerts="no")
    try:
        anyio.run(
            lambda: run_worker(settings, consumer=args.consumer, metrics_port=args.metrics_port)
        )
    except SchemaOutdated as exc:  # the schema moved since the check
        print(f"massar-gateway: {exc}", file=sys.stderr)  # noqa: T201
        return 1
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p_worker = sub.add_parser(
        "worker", help="send what the outbox holds (SMS follow-ups, replies, alerts)"
    )
    p_worker.add_argument(
        "--consumer", default=None, help="this worker's name (default: host and process id)"
    )
    p_worker.add_argument(
        "--metrics-port", type=int, default=None, help="serve Prometheus metrics on this port"
    )
    p_worker.set_defaults(func=worker)
