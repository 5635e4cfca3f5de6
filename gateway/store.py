"""Connections to the shared engines: Redis (sessions, cache, locks) and the SQL database.

With `GATEWAY_REDIS_URL` unset the gateway runs on an in-process Redis stand-in (fakeredis):
fine for the demo and the tests, never for more than one worker.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from redis.asyncio import Redis


def open_redis(url: str | None) -> tuple[Redis, str]:
    """A Redis client for `url`, or the in-process stand-in, and a word saying which."""
    if url is None:
        import fakeredis

        return fakeredis.FakeAsyncRedis(), "in-process stand-in (fakeredis)"
    client: Redis = Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
    return client, "redis"


def open_database(url: str) -> sa.Engine:
    """An engine for `url`; a SQLite file's folder is created when missing."""
    sa_url = sa.make_url(url)
    if sa_url.get_backend_name() == "sqlite" and sa_url.database not in (None, "", ":memory:"):
        Path(sa_url.database).parent.mkdir(parents=True, exist_ok=True)
    return sa.create_engine(sa_url, pool_pre_ping=True)
