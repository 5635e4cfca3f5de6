"""The language chosen with AR/FR, remembered in Redis (`gateway.state.langs`): a new session reads
it in the turn's first round trip instead of asking SQL (issue #24), and a choice written on
one worker reaches the next session on any other, never overwritten by a stale fill.

Real Redis (or the stand-in when it does not answer) and real SQL (SQLite; PostgreSQL when it
answers)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from redis.asyncio import Redis
from redis.crc import key_slot

from gateway.dialogs.model import ChannelKind
from gateway.state.alerts.preferences import SqlPreferences
from gateway.state.connections import open_database
from gateway.state.langs import LanguageMemo, RememberedLanguage
from gateway.state.migrate import upgrade
from gateway.state.store import Opened, SessionStore

pytestmark = [pytest.mark.anyio, pytest.mark.redis, pytest.mark.postgres]

PHONE = "+212612345678"


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_url: str | None
) -> Iterator[sa.Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/var/gateway.db"
    elif postgres_url is None:
        pytest.skip("PostgreSQL does not answer on 127.0.0.1:5432 (TEST_POSTGRES_URL)")
    else:
        url = postgres_url
    upgrade(url)
    engine = open_database(url)
    yield engine
    engine.dispose()


class CountedReads(SqlPreferences):
    """The real SQL preferences, counting the language reads that reach the database."""

    reads = 0

    async def lang(self, phone: str) -> str | None:
        self.reads += 1
        return await super().lang(phone)


@pytest.fixture
def prefs(engine: sa.Engine) -> CountedReads:
    # A secret of its own: its rows have hashes no other test (or run) writes.
    return CountedReads(engine, key_secret=f"langs-{uuid.uuid4()}".encode())


@pytest.fixture
def store(redis: Redis, key_secret: bytes, prefix: str) -> SessionStore:
    return SessionStore(redis, key_secret=key_secret, prefix=prefix)


async def first_round_trip(store: SessionStore, memo: LanguageMemo) -> Opened:
    """What a new session's first round trip reads (`TurnRunner._run`), lock freed after."""
    opened = await store.open_turn(
        ChannelKind.USSD, PHONE, uuid.uuid4().hex, lang_key=memo.key(PHONE)
    )
    await store.release_turn(ChannelKind.USSD, PHONE, opened)
    return opened


async def test_a_new_session_reads_the_language_from_the_first_round_trip_not_sql(
    store: SessionStore, prefs: CountedReads
) -> None:
    memo = LanguageMemo(store.redis, store.keys)
    # First session ever: nothing remembered, SQL answers, "never chose" is remembered.
    opened = await first_round_trip(store, memo)
    assert opened.lang is None
    assert await RememberedLanguage(prefs, memo, PHONE, opened.lang).lang(PHONE) is None
    assert prefs.reads == 1
    assert await store.redis.get(memo.key(PHONE)) == b"-"
    # Every later session: the answer rides on the first round trip; SQL is not asked.
    for _ in range(3):
        opened = await first_round_trip(store, memo)
        assert opened.lang == b"-"
        assert await RememberedLanguage(prefs, memo, PHONE, opened.lang).lang(PHONE) is None
    assert prefs.reads == 1
    ttl = await store.redis.ttl(memo.key(PHONE))
    assert 0 < ttl <= memo.ttl_s


async def test_a_choice_reaches_the_next_session_and_a_stale_fill_never_undoes_it(
    store: SessionStore, prefs: CountedReads
) -> None:
    memo = LanguageMemo(store.redis, store.keys)
    # Worker A remembered "never chose"; worker B's turn chooses French.
    await memo.fill(PHONE, None)
    turn_b = RememberedLanguage(prefs, memo, PHONE, b"-")
    await turn_b.set_lang(PHONE, "fr", datetime.now(UTC))
    assert await turn_b.lang(PHONE) == "fr"
    # A reader that asked SQL before the write lands its fill after it: it changes nothing.
    await memo.fill(PHONE, None)
    opened = await first_round_trip(store, memo)
    assert opened.lang == b"fr"
    assert await RememberedLanguage(prefs, memo, PHONE, opened.lang).lang(PHONE) == "fr"
    assert prefs.reads == 0
    # SQL holds the choice too: with Redis's copy lost, the next session still finds it.
    await store.redis.delete(memo.key(PHONE))
    opened = await first_round_trip(store, memo)
    assert await RememberedLanguage(prefs, memo, PHONE, opened.lang).lang(PHONE) == "fr"
    assert prefs.reads == 1
    assert await store.redis.get(memo.key(PHONE)) == b"fr"


async def test_another_phones_language_is_asked_of_sql(
    store: SessionStore, prefs: CountedReads
) -> None:
    memo = LanguageMemo(store.redis, store.keys)
    other = "+212612345679"
    await prefs.set_lang(other, "ar")
    turn = RememberedLanguage(prefs, memo, PHONE, b"fr")
    assert await turn.lang(other) == "ar"
    assert await turn.lang(PHONE) == "fr"
    assert prefs.reads == 1


async def test_the_language_key_is_on_the_phones_slot(store: SessionStore) -> None:
    """OPEN_TURN reads it with the phone's session: one Redis Cluster slot (no CROSSSLOT)."""
    memo = LanguageMemo(store.redis, store.keys)
    session = store.keys.session(ChannelKind.USSD, PHONE)
    assert key_slot(memo.key(PHONE).encode()) == key_slot(session.encode())
    assert PHONE not in memo.key(PHONE)
