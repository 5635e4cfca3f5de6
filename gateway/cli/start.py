"""What `serve`, `worker` and `alerts` do before they take any work: refuse the in-process
Redis stand-in where other processes must reach the same Redis, check the shared engines
(`gateway/checks.py` decides, `gateway/state/health.py` probes), and say in one line what the
process runs on and what it does (serve, send, consume alerts)."""

from __future__ import annotations

import sys

import structlog

from gateway.logs import bare_url
from gateway.settings import Settings

log = structlog.get_logger("gateway")

NEEDS_SHARED_REDIS = (
    "needs a Redis every process reaches: set GATEWAY_REDIS_URL "
    "(without it each process has an in-process stand-in of its own)"
)


def require_shared_redis(settings: Settings, what: str) -> None:
    """One line and exit 2 when `what` would run on a stand-in nobody else can reach."""
    if settings.redis_url is None:
        print(f"massar-gateway: {what} {NEEDS_SHARED_REDIS}", file=sys.stderr)  # noqa: T201
        raise SystemExit(2)


async def engines_ok(settings: Settings) -> bool:
    """Probe Redis and the database, log each warning, print each refusal (stderr, one line
    each). False when the start must stop."""
    from gateway.checks import judge_engines
    from gateway.migrate import head_revision
    from gateway.state.health import probe_engines

    redis, database = await probe_engines(settings.redis_url, settings.database_url)
    verdict = judge_engines(settings, redis, database, head_revision())
    for finding in verdict.warnings:
        log.warning("start_check", check=finding.check, detail=finding.text)
    for finding in verdict.refusals:
        print(f"massar-gateway: {finding.text}", file=sys.stderr)  # noqa: T201
    return not verdict.refusals


def announce(command: str, settings: Settings, *, serves: str, sends: str, alerts: str) -> None:
    """The start line: what this process runs on (no password) and what it does."""
    from gateway.state.health import describe_database, describe_redis

    log.info(
        "start",
        command=command,
        redis=describe_redis(settings.redis_url),
        database=describe_database(settings.database_url),
        backend=bare_url(settings.backend_url),
        serves=serves,
        sends=sends,
        alerts=alerts,
    )
