"""Connections to the shared engines: Redis (one server, a cluster, or the in-process
stand-in) and the SQL database.

With `GATEWAY_REDIS_URL` unset the gateway runs on an in-process Redis stand-in (fakeredis):
fine for the demo and the tests, never for more than one worker.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeAlias
from urllib.parse import urlsplit

import sqlalchemy as sa
from redis.asyncio import Connection, ConnectionPool, Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.maint_notifications import MaintNotificationsConfig

from gateway.state.errors import translated

__all__ = [
    "REDIS_MAX_CONNECTIONS",
    "Database",
    "RedisClient",
    "cluster_url",
    "open_database",
    "open_redis",
    "warm_up",
]


REDIS_MAX_CONNECTIONS = 512

RedisClient: TypeAlias = Redis
"""The Redis client the stores are built on, as modules above the state layer name it."""

Database: TypeAlias = sa.Engine
"""The SQL engine the stores are built on, as modules above the state layer name it."""


class _Connection(Connection):
    """redis-py's TCP connection without a task per command.

    With a socket timeout set, redis-py writes every command under `asyncio.wait_for`, which
    wraps the write in a new task: 5.4 % of a USSD turn's CPU in `make profile`, and one more
    turn of the event loop per command. A small command written to a transport whose buffer
    is empty cannot wait (asyncio only makes a writer wait once its buffer passes the high-water
    mark), so it is written without that bound; a Redis that stopped answering is still caught
    by the timeout on reading the reply. Anything else (not yet connected, a buffer that holds
    data, health checks) takes redis-py's own path.
    """

    async def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        writer = self._writer
        bound = self.socket_timeout
        if (
            bound is None
            or writer is None
            or self.health_check_interval
            or writer.transport.get_write_buffer_size()
        ):
            await super().send_packed_command(command, check_health)
            return
        self.socket_timeout = None  # this write only; the reply's read keeps the bound
        try:
            await super().send_packed_command(command, check_health)
        finally:
            self.socket_timeout = bound


class _Pool(ConnectionPool):
    """redis-py's pool, minus a retry wrapper around `connect()` for a connection that is
    already connected (2.7 % of a USSD turn's CPU): a connected one with nothing unread is
    handed out as is; any other goes through redis-py's checks and reconnection."""

    async def ensure_connection(self, connection: Any) -> None:
        if connection.is_connected:
            try:
                if not await connection.can_read():
                    return
            except (RedisConnectionError, OSError):
                pass  # redis-py's path below reconnects it
        await super().ensure_connection(connection)


def open_redis(url: str | None, *, timeout_s: float = 1.0) -> tuple[RedisClient, str]:
    """A Redis client for `url`, or the in-process stand-in, and a word saying which.

    A Redis Cluster is named `redis+cluster://host:port` (`rediss+cluster://` with TLS) or
    `redis://host:port?cluster=true`; any node will do, the client discovers the others. Every
    key the gateway uses carries a hash tag, so multi-key scripts stay on one slot. A command
    or a connection taking longer than `timeout_s` fails (`GATEWAY_REDIS_TIMEOUT_S`).
    """
    if url is None:
        import fakeredis

        stand_in = fakeredis.FakeAsyncRedis(max_connections=REDIS_MAX_CONNECTIONS)
        return stand_in, "in-process stand-in (fakeredis)"
    plain = cluster_url(url)
    if plain is not None:
        from redis.asyncio.cluster import RedisCluster

        cluster = RedisCluster.from_url(
            plain, socket_timeout=timeout_s, socket_connect_timeout=timeout_s
        )
        # RedisCluster offers the commands the gateway uses (GET/SET/EVALSHA/XADD...).
        return cluster, "redis cluster"  # type: ignore[return-value]
    # A plain pool, not the blocking one: a worker runs at most `max_turns_in_flight` (256)
    # turns, each holding one connection at a time, so 512 is never all taken and a waiting
    # pool's condition variable and timeout would only cost every command (bench/redis_client.py).
    # Maintenance notifications (a managed Redis announcing node moves) are not used here:
    # off, so no connection asks for them. The parser is hiredis (a dependency): redis-py
    # picks it when it is installed.
    tcp = urlsplit(url).scheme == "redis"  # TLS and Unix sockets keep redis-py's classes
    pool = _Pool.from_url(
        url,
        **({"connection_class": _Connection} if tcp else {}),
        max_connections=REDIS_MAX_CONNECTIONS,
        socket_timeout=timeout_s,
        socket_connect_timeout=timeout_s,
        maint_notifications_config=MaintNotificationsConfig(enabled=False),
    )
    return Redis.from_pool(pool), "redis"


@translated
async def warm_up(redis: Redis) -> None:
    """Open a cluster client's node connections before the first turns arrive.

    redis-py 8.1's asyncio `RedisCluster` fails some commands that race a node's very first
    connections (`'NoneType' object has no attribute 'writelines'`); discovering the slots
    and pinging every node once at start-up avoids that burst. A single server needs nothing.
    `StoreUnavailable` when a node does not answer.
    """
    from redis.asyncio.cluster import RedisCluster

    if isinstance(redis, RedisCluster):
        await redis.initialize()
        await redis.execute_command("PING", target_nodes=RedisCluster.ALL_NODES)


def cluster_url(url: str) -> str | None:
    """The plain redis:// URL of a cluster URL, or None when `url` names one server."""
    from urllib.parse import parse_qsl, urlencode, urlunsplit

    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    flagged = any(k == "cluster" and v.lower() in ("1", "true", "yes") for k, v in query)
    if parts.scheme in ("redis+cluster", "rediss+cluster"):
        scheme = parts.scheme.split("+")[0]
    elif flagged:
        scheme = parts.scheme
    else:
        return None
    rest = urlencode([(k, v) for k, v in query if k != "cluster"])
    return urlunsplit((scheme, parts.netloc, parts.path, rest, parts.fragment))


def open_database(url: str) -> sa.Engine:
    """An engine for `url`; a SQLite file's folder is created when missing."""
    sa_url = sa.make_url(url)
    if sa_url.get_backend_name() == "sqlite" and sa_url.database not in (None, "", ":memory:"):
        Path(sa_url.database).parent.mkdir(parents=True, exist_ok=True)
    return sa.create_engine(sa_url, pool_pre_ping=True)
