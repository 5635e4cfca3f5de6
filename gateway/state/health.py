"""What the shared engines say about themselves, for the start-up checks and `/readyz`.

Probes only: `probe_redis` reads whether the Redis persists and what it evicts,
`probe_database` which schema revision the database is at, `ping_redis` and `ping_database`
whether each answers now (`/readyz`, and each scrape of /metrics), `redis_memory` how much
of its `maxmemory` Redis uses (the outbox needs `noeviction`: a full Redis refuses writes,
and deploy/prometheus/rules.yml warns first). What to make of it (refuse, warn) is decided in
`gateway/checks.py`. `describe_redis` and `describe_database` name an engine for a log line:
its address, never a password.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import RedisError

from gateway.state.connections import cluster_url, open_database, open_redis, warm_up

__all__ = [
    "STAND_IN",
    "DatabaseFacts",
    "RedisFacts",
    "RedisMemory",
    "RedisNode",
    "describe_database",
    "describe_redis",
    "ping_database",
    "ping_redis",
    "probe_database",
    "probe_engines",
    "probe_redis",
    "redis_memory",
]

STAND_IN = "in-process stand-in (fakeredis)"
# What the checks read: persistence (AOF, RDB snapshot rules) and the eviction policy.
CONFIG_NAMES = ("appendonly", "save", "maxmemory-policy")


@dataclass(frozen=True, slots=True)
class RedisNode:
    """One server's answers to `CONFIG GET` (a cluster has one per node)."""

    name: str  # host:port
    appendonly: str
    save: str  # RDB rules ("3600 1 300 100"); empty: no snapshots
    policy: str  # maxmemory-policy


@dataclass(frozen=True, slots=True)
class RedisFacts:
    where: str  # describe_redis
    stand_in: bool = False
    error: str | None = None  # the exception's type when it did not answer
    nodes: tuple[RedisNode, ...] = ()
    config_refused: str | None = None  # why CONFIG GET failed (a managed Redis disables it)

    @property
    def reachable(self) -> bool:
        return self.error is None


@dataclass(frozen=True, slots=True)
class DatabaseFacts:
    where: str  # describe_database
    error: str | None = None  # the exception's type when it did not answer
    revision: str | None = None  # None: no migration ever ran on it

    @property
    def reachable(self) -> bool:
        return self.error is None


def describe_redis(url: str | None) -> str:
    """`host:port/db` (`cluster host:port`, `unix:/path/db`, `… TLS`); no user, no password."""
    if url is None:
        return STAND_IN
    cluster = cluster_url(url)
    parts = urlsplit(cluster or url)
    tls = " TLS" if parts.scheme == "rediss" else ""
    if parts.scheme == "unix":
        db = parse_qs(parts.query).get("db", ["0"])[0]
        return f"unix:{parts.path}/{db}"
    try:
        port = parts.port or 6379
    except ValueError:  # not a number: the URL is refused when the client connects
        port = 6379
    host = parts.hostname or "localhost"
    if ":" in host:  # IPv6
        host = f"[{host}]"
    if cluster is not None:
        return f"cluster {host}:{port}{tls}"
    db = parts.path.strip("/") or parse_qs(parts.query).get("db", ["0"])[0]
    return f"{host}:{port}/{db}{tls}"


def describe_database(url: str) -> str:
    """The database URL without its password or query (a query may hold one, `sslpassword`)."""
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError:
        return "(not a database URL)"  # nothing of it: the text may be a password pasted
    bare = sa.URL.create(
        parsed.drivername,
        username=parsed.username,
        host=parsed.host,
        port=parsed.port,
        database=parsed.database,
    )  # `URL.set(password=None)` would keep the password: None there means "unchanged"
    return bare.render_as_string(hide_password=False)


async def probe_redis(redis: Any, url: str | None) -> RedisFacts:
    """Ask each server of `redis` (the client opened for `url`) for its persistence and
    eviction policy. A server that does not answer, or refuses `CONFIG GET`, says so."""
    where = describe_redis(url)
    if url is None:
        return RedisFacts(where=where, stand_in=True)
    try:
        await redis.ping()
    except (RedisError, OSError) as exc:
        return RedisFacts(where=where, error=type(exc).__name__)
    try:
        nodes = await _config(redis)
    except RedisError as exc:  # ResponseError: unknown command, or NOPERM under an ACL
        return RedisFacts(where=where, config_refused=f"{type(exc).__name__}: {_first(exc)}")
    except OSError as exc:
        return RedisFacts(where=where, error=type(exc).__name__)
    return RedisFacts(where=where, nodes=nodes)


async def _config(redis: Any) -> tuple[RedisNode, ...]:
    if isinstance(redis, RedisCluster):
        found = []
        for node in redis.get_nodes():
            values = {}
            for name in CONFIG_NAMES:
                answer = await redis.execute_command("CONFIG GET", name, target_nodes=node)
                values.update(_as_text(answer))
            found.append(_node(node.name, values))
        return tuple(found)
    values = {}
    for name in CONFIG_NAMES:  # one name a call: Redis before 7 takes one pattern
        values.update(_as_text(await redis.config_get(name)))
    kwargs = redis.connection_pool.connection_kwargs
    return (_node(f"{kwargs.get('host', 'localhost')}:{kwargs.get('port', 6379)}", values),)


def _node(name: str, values: Mapping[str, str]) -> RedisNode:
    return RedisNode(
        name=name,
        appendonly=values.get("appendonly", ""),
        save=values.get("save", ""),
        policy=values.get("maxmemory-policy", ""),
    )


def _as_text(answer: Any) -> dict[str, str]:
    """`CONFIG GET`'s answer (a dict, or a flat list before parsing) as text."""
    if isinstance(answer, list | tuple):
        answer = dict(zip(answer[::2], answer[1::2], strict=True))
    return {_text(k): _text(v) for k, v in dict(answer).items()}


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _first(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0][:120] if lines else ""


def probe_database(engine: sa.Engine) -> DatabaseFacts:
    """The revision the database is at, or why it could not be read (blocking: a thread)."""
    where = describe_database(engine.url.render_as_string(hide_password=False))
    try:
        with engine.connect() as connection:
            revision = MigrationContext.configure(connection).get_current_revision()
    except sa.exc.SQLAlchemyError as exc:
        cause = exc.orig if isinstance(exc, sa.exc.DBAPIError) and exc.orig else exc
        return DatabaseFacts(where=where, error=type(cause).__name__)
    return DatabaseFacts(where=where, revision=revision)


async def probe_engines(
    redis_url: str | None, database_url: str
) -> tuple[RedisFacts, DatabaseFacts]:
    """Both probes, on connections of their own, closed again (the start-up checks)."""
    import anyio.to_thread

    engine = open_database(database_url)
    try:
        database = await anyio.to_thread.run_sync(probe_database, engine)
    finally:
        engine.dispose()
    if redis_url is None:
        return RedisFacts(where=STAND_IN, stand_in=True), database
    redis, _ = open_redis(redis_url)
    try:
        try:
            await warm_up(redis)
        except (RedisError, OSError) as exc:
            return RedisFacts(where=describe_redis(redis_url), error=type(exc).__name__), database
        return await probe_redis(redis, redis_url), database
    finally:
        await redis.aclose()


# --- /readyz ----------------------------------------------------------------------------------


async def ping_redis(redis: Redis, kind: str) -> dict[str, Any]:
    """Whether Redis answers a PING now, and how fast (`/readyz`)."""
    started = time.perf_counter()
    try:
        ok = bool(await redis.ping())
    except (RedisError, OSError) as exc:
        return {"ok": False, "kind": kind, "error": type(exc).__name__}
    return {"ok": ok, "kind": kind, "latency_ms": round((time.perf_counter() - started) * 1000, 1)}


def ping_database(engine: sa.Engine) -> dict[str, Any]:
    """Whether the database runs `select 1` now (`/readyz`; blocking: call it in a thread)."""
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
    except sa.exc.SQLAlchemyError as exc:
        return {"ok": False, "kind": engine.url.get_backend_name(), "error": type(exc).__name__}
    return {"ok": True, "kind": engine.url.get_backend_name()}


@dataclass(frozen=True, slots=True)
class RedisMemory:
    used: int  # bytes (INFO memory's used_memory)
    limit: int  # maxmemory; 0: no limit


async def redis_memory(redis: Redis) -> RedisMemory | None:
    """Used and maximum memory (on a cluster, the node nearest its limit); None when Redis
    does not answer or refuses INFO (a managed Redis may; the in-process stand-in does)."""
    try:
        info: dict[str, Any] = await redis.info("memory")
    except (RedisError, OSError):
        return None
    nodes = [info] if "used_memory" in info else []
    nodes += [v for v in info.values() if isinstance(v, dict) and "used_memory" in v]
    readings = [
        RedisMemory(int(node.get("used_memory", 0)), int(node.get("maxmemory", 0)))
        for node in nodes
    ]
    return max(readings, key=lambda m: m.used / m.limit if m.limit else 0.0, default=None)
