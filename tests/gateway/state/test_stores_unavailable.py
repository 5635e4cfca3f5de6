"""Every store, on an engine that does not answer, raises `StoreUnavailable` naming that engine,
never the driver's error, and never quotes a phone number (`@translated`).

Redis is a client of a port nothing listens on (tried once); the database is PostgreSQL on
such a port. Each case is one call a caller above the state layer makes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from gateway.dialogs.model import ChannelKind
from gateway.state.alerts.lease import Lease
from gateway.state.alerts.preferences import SqlPreferences
from gateway.state.alerts.store import AlertStore
from gateway.state.bindings import SqlBindings
from gateway.state.console.audit import AuditLog
from gateway.state.console.sessions import CheckCounter, ConsoleSessions, SigninGate
from gateway.state.errors import StoreUnavailable
from gateway.state.forget import forget_keys, forget_rows
from gateway.state.keys import Keys
from gateway.state.langs import LanguageMemo
from gateway.state.lockout import RedisLockout
from gateway.state.migrate import MigrationFailed, upgrade
from gateway.state.outbox.bucket import ChatBuckets, TokenBucket
from gateway.state.outbox.keys import OutboxKeys
from gateway.state.outbox.records import MessageRecords
from gateway.state.outbox.sink import SinkStream
from gateway.state.outbox.streams import OutboxStreams, StreamMissing
from gateway.state.resilience.breaker import BreakerRecord
from gateway.state.resilience.cache import CacheStore
from gateway.state.store import SessionStore
from gateway.state.telegram_links import TelegramLinks

pytestmark = pytest.mark.anyio

PHONE = "+212600000001"
SECRET = b"state-test-key"
DEAD_DATABASE = "postgresql+psycopg://gateway@127.0.0.1:1/gateway"

Call = Callable[[Redis], Awaitable[Any]]
SqlCall = Callable[[sa.Engine], Awaitable[Any]]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def down() -> AsyncIterator[Redis]:
    """A client of a Redis that does not answer (nothing listens there), tried once."""
    client = Redis(host="127.0.0.1", port=1, socket_connect_timeout=1, retry=Retry(NoBackoff(), 0))
    yield client
    await client.aclose()


@pytest.fixture
def dead() -> Iterator[sa.Engine]:
    """An engine of a database that does not answer (nothing listens there)."""
    engine = sa.create_engine(DEAD_DATABASE, connect_args={"connect_timeout": 2})
    yield engine
    engine.dispose()


async def _locked(redis: Redis) -> None:
    async with SessionStore(redis, key_secret=SECRET).lock(ChannelKind.SMS, PHONE, wait_s=1.0):
        pass


REDIS_CALLS: dict[str, Call] = {
    "sessions.load": lambda r: SessionStore(r, key_secret=SECRET).load(ChannelKind.SMS, PHONE),
    "sessions.lock": _locked,
    "languages.store": lambda r: LanguageMemo(r, Keys(SECRET)).store(PHONE, "fr"),
    "lockout.phone_state": lambda r: RedisLockout(r, key_secret=SECRET).phone_state(PHONE),
    "outbox.backlog": lambda r: OutboxStreams(r, OutboxKeys()).backlog(),
    "sink.entries": lambda r: SinkStream(r, OutboxKeys()).entries(),
    "bucket.take": lambda r: TokenBucket(r, "mg:test:bucket", rate=1.0, burst=1).take(),
    "chat_buckets.take": lambda r: ChatBuckets(r, OutboxKeys(), rate=1.0).take("chat"),
    "alerts_lease.hold": lambda r: Lease(r, "mg:test:lease", ttl_s=1.0).hold(),
    "console_sessions.get": lambda r: ConsoleSessions(
        r, key_secret=SECRET, idle_s=60, max_s=600
    ).get("sid"),
    "signin_gate.reserve": lambda r: SigninGate(
        r, key_secret=SECRET, limit=3, address_limit=3, lock_s=60, slow_after=2, interval_s=1
    ).reserve("nadia", "127.0.0.1"),
    "check_counter.failures": lambda r: CheckCounter(
        r, key_secret=SECRET, limit=3, window_s=60
    ).failures("nadia"),
    "cache.read": lambda r: CacheStore(r, Keys(SECRET), stale_s=60).read("mg:c:{x}"),
    "breaker.state": lambda r: BreakerRecord(r, "mg:test:breaker").state(cooldown_ms=1),
    "forget_keys": lambda r: forget_keys(r, Keys(SECRET), PHONE),
}

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

SQL_CALLS: dict[str, SqlCall] = {
    "bindings.bound_since": lambda e: SqlBindings(e, key_secret=SECRET).bound_since(PHONE),
    "records.for_address": lambda e: MessageRecords(e, key_secret=SECRET).for_address(PHONE),
    "records.status_callback": lambda e: MessageRecords(e, key_secret=SECRET).status_callback(
        "SM1", "delivered", None, NOW
    ),
    "telegram_links.phone": lambda e: TelegramLinks(e, key_secret=SECRET).phone(42),
    "preferences.opt_out": lambda e: SqlPreferences(e, key_secret=SECRET).opt_out(PHONE),
    "alerts.cursor": lambda e: AlertStore(e, key_secret=SECRET).cursor(),
    "audit.recent": lambda e: AuditLog(e).recent(),
    "forget_rows": lambda e: forget_rows(e, SECRET, PHONE, None),
}


@pytest.mark.parametrize("name", sorted(REDIS_CALLS))
async def test_a_redis_store_that_gets_no_answer_says_store_unavailable(
    name: str, down: Redis
) -> None:
    with pytest.raises(StoreUnavailable) as caught:
        await REDIS_CALLS[name](down)
    assert caught.value.part == "redis"
    assert PHONE[1:] not in str(caught.value)


@pytest.mark.parametrize("name", sorted(SQL_CALLS))
async def test_a_database_store_that_gets_no_answer_says_store_unavailable(
    name: str, dead: sa.Engine
) -> None:
    with pytest.raises(StoreUnavailable) as caught:
        await SQL_CALLS[name](dead)
    assert caught.value.part == "database"
    assert PHONE[1:] not in str(caught.value)


async def test_reading_streams_whose_group_went_away_is_stream_missing(
    redis: Redis, prefix: str
) -> None:
    """Redis restarted without persistence: the worker is told, as a `StoreError`, to make the
    group again (not a part down)."""
    streams = OutboxStreams(redis, OutboxKeys(prefix=prefix, ns="missing"))
    with pytest.raises(StreamMissing):
        await streams.read("worker-1", streams.streams, count=1)
    await streams.ensure_group()
    assert await streams.read("worker-1", streams.streams, count=1) in ([], {}, None)


def test_a_database_that_cannot_be_migrated_is_migration_failed_with_one_line() -> None:
    with pytest.raises(MigrationFailed) as caught:
        upgrade(DEAD_DATABASE)
    reason = str(caught.value)
    assert reason.startswith("OperationalError: ")
    assert "\n" not in reason
    assert "127.0.0.1:1/gateway" not in reason  # never the URL
