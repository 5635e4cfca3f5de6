"""`python -m gateway alerts`: the change-feed consumer; run it in as many processes as you
like, one of them (the lease holder) reads the feed at a time."""

from __future__ import annotations

import argparse
import sys

import anyio
import structlog

from gateway import logs
from gateway.cli.settings import load_settings
from gateway.cli.start import announce, engines_ok, require_shared_redis
from gateway.cli.worker import stop_on_signal
from gateway.settings import Settings

log = structlog.get_logger("gateway.alerts")


async def run_alerts(settings: Settings, *, metrics_port: int | None = None) -> None:
    """Consume until SIGTERM or SIGINT; the batch in hand is finished first."""
    from gateway.runtime import open_runtime  # not for `--help`: it loads every part

    logs.configure(json_logs=settings.json_logs, level=settings.log_level, file=settings.log_file)
    async with open_runtime(settings) as runtime, anyio.create_task_group() as tasks:
        if metrics_port is not None:  # the consumer's lag (deploy/prometheus/rules.yml)
            from prometheus_client import start_http_server

            start_http_server(metrics_port, addr=settings.host, registry=runtime.metrics.registry)
        stop = anyio.Event()
        tasks.start_soon(stop_on_signal, stop, "alerts_consumer_stopping")
        await runtime.alerts().run(stop=stop)
        tasks.cancel_scope.cancel()


def alerts(args: argparse.Namespace) -> int:
    """Issue 15: read the backend's change feed and queue alerts (one active among many)."""
    from gateway.state.migrate import SchemaOutdated

    settings = load_settings()
    require_shared_redis(settings, "gateway alerts")
    logs.configure(json_logs=settings.json_logs, level=settings.log_level, file=settings.log_file)
    if not anyio.run(engines_ok, settings):
        return 1
    announce("alerts", settings, serves="no", sends="no: `gateway worker` sends", alerts="yes")
    try:
        anyio.run(lambda: run_alerts(settings, metrics_port=args.metrics_port))
    except SchemaOutdated as exc:  # the schema moved since the check
        print(f"massar-gateway: {exc}", file=sys.stderr)  # noqa: T201
        return 1
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p_alerts = sub.add_parser(
        "alerts", help="turn the backend's change feed into alerts for guardians (issue 15)"
    )
    p_alerts.add_argument(
        "--metrics-port", type=int, default=None, help="serve Prometheus metrics on this port"
    )
    p_alerts.set_defaults(func=alerts)
