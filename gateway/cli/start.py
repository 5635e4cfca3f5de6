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
    from gateway.state.health import probe_engines
    from gateway.state.migrate import head_revision

    redis, database = await probe_engines(settings.redis_url, settings.database_url)
    verdict = judge_engines(settings, redis, database, head_revision())
    for finding in verdict.warnings:
        log.warning("start_check", check=finding.check, detail=finding.text)
    for finding in verdict.refusals:
        print(f"massar-gateway: {finding.text}", file=sys.stderr)  # noqa: T201
    if verdict.refusals:
        return False
    refusal = await keys_refusal(settings)
    if refusal is not None:
        print(f"massar-gateway: {refusal}", file=sys.stderr)  # noqa: T201
    return refusal is None


async def keys_refusal(settings: Settings) -> str | None:
    """Why the identity keys do not open this database's hashes (a missing or wrong
    GATEWAY_IDENTITY_KEY_PREVIOUS, an old configuration), or None. Registers a new key."""
    import anyio.to_thread

    from gateway.state.connections import open_database
    from gateway.state.identity import KeyMismatch, open_keyring

    engine = open_database(settings.database_url)
    try:
        await anyio.to_thread.run_sync(open_keyring, engine, settings.identity_keys())
    except KeyMismatch as exc:
        return str(exc)
    finally:
        engine.dispose()
    return None


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
