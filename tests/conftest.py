"""Shared test fixtures: which Redis and PostgreSQL the suite uses.

The suite uses the real servers on 127.0.0.1 when they answer and the embedded stand-ins
(fakeredis, SQLite) otherwise; the pytest header says which, and whether Kannel is installed
(tests/kannel runs a real one, or is skipped).
"""

from __future__ import annotations

import os
import socket

import pytest

from tests.kannel import harness as kannel_harness

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
# A command's bound in tests: long enough that a host saturated by other work (2 cores, CI
# beside other sessions) never turns a slow Redis reply into "Massar is busy" (1 s in production).
REDIS_TIMEOUT_S = 5.0
POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _redis_answers() -> bool:
    if not _answers("127.0.0.1", 6379):
        return False
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_timeout=1).ping())
    except redis.RedisError:
        return False


def _postgres_answers() -> bool:
    if not _answers("127.0.0.1", 5432):
        return False
    import sqlalchemy as sa

    try:
        engine = sa.create_engine(POSTGRES_URL)
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
        engine.dispose()
    except sa.exc.SQLAlchemyError:
        return False
    return True


REAL_REDIS = _redis_answers()
REAL_POSTGRES = _postgres_answers()
KANNEL_MISSING = kannel_harness.missing()


def pytest_report_header(config: pytest.Config) -> list[str]:
    return [
        "redis: "
        + (f"real server at {REDIS_URL}" if REAL_REDIS else "in-process stand-in (fakeredis)"),
        "postgresql: "
        + (f"real server at {POSTGRES_URL}" if REAL_POSTGRES else "not answering; SQLite only"),
        "kannel: "
        + (
            "bearerbox, smsbox and fakesmsc found; the real-Kannel tests run"
            if KANNEL_MISSING is None
            else f"{KANNEL_MISSING}; the real-Kannel tests are skipped"
        ),
    ]


@pytest.fixture(scope="session", autouse=True)
def _fresh_redis_test_database() -> None:
    """Start every run on an empty Redis test database: keys an earlier run left (sessions,
    the language a phone chose, helpdesk items, outbox markers under a fixed test key) would
    otherwise change what this run's conversations see. Database 0 is never emptied."""
    if not REAL_REDIS:
        return
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_timeout=5)
    try:
        if client.connection_pool.connection_kwargs.get("db", 0) != 0:
            client.flushdb()
    finally:
        client.close()


@pytest.fixture
def redis_url() -> str | None:
    """The real Redis test database URL, or None to use the in-process stand-in."""
    return REDIS_URL if REAL_REDIS else None


@pytest.fixture(scope="session")
def postgres_url() -> str | None:
    """The real PostgreSQL URL, or None when it does not answer."""
    return POSTGRES_URL if REAL_POSTGRES else None
