"""SessionStore: sessions round-trip with a per-channel TTL and lose races by rev, not by data."""

from __future__ import annotations

import anyio
import pytest
from redis.asyncio import Redis

from gateway.dialogs.model import ChannelKind, Lang, Session
from gateway.state.store import SESSION_TTL_S, SessionConflict, SessionStore

pytestmark = [pytest.mark.anyio, pytest.mark.redis]

PHONE = "+212612345678"
USSD = ChannelKind.USSD


@pytest.fixture
def store(redis: Redis, prefix: str, key_secret: bytes) -> SessionStore:
    return SessionStore(redis, key_secret=key_secret, prefix=prefix)


async def test_unknown_user_has_no_session(store: SessionStore) -> None:
    assert await store.load(USSD, PHONE) is None


async def test_saved_session_loads_back_at_the_next_rev(store: SessionStore) -> None:
    session = Session(state="menu", lang=Lang.FR, lang_chosen=True, data={"child": "stu_1"})
    saved = await store.save(USSD, PHONE, session, ttl_s=60)
    assert saved.rev == 1
    assert saved == session.with_(rev=1)
    assert await store.load(USSD, PHONE) == saved
    again = await store.save(USSD, PHONE, saved.with_(state="grades"), ttl_s=60)
    assert again.rev == 2
    assert await store.load(USSD, PHONE) == again


async def test_sessions_are_per_channel_and_per_user(store: SessionStore) -> None:
    await store.save(USSD, PHONE, Session(state="menu"))
    assert await store.load(ChannelKind.SMS, PHONE) is None
    assert await store.load(USSD, "+212612345679") is None


async def test_stored_document_is_compact_json_that_keeps_the_schema_version(
    store: SessionStore, redis: Redis
) -> None:
    await store.save(USSD, PHONE, Session(state="menu"))
    doc = await redis.hget(store.keys.session(USSD, PHONE), "doc")
    assert doc is not None
    assert b" " not in doc
    assert b'"v":1' in doc
    assert b'"state":"menu"' in doc
    assert b"lang_chosen" not in doc  # defaults are left out


@pytest.mark.parametrize("channel", list(ChannelKind))
async def test_every_save_sets_the_channel_ttl(
    store: SessionStore, redis: Redis, channel: ChannelKind
) -> None:
    key = store.keys.session(channel, PHONE)
    saved = await store.save(channel, PHONE, Session())
    ttl_ms = SESSION_TTL_S[channel] * 1000
    assert ttl_ms - 5000 < await redis.pttl(key) <= ttl_ms
    await redis.pexpire(key, 50_000)
    await store.save(channel, PHONE, saved)
    assert ttl_ms - 5000 < await redis.pttl(key) <= ttl_ms


def test_default_ttls_follow_the_channels() -> None:
    assert SESSION_TTL_S == {
        ChannelKind.USSD: 180,
        ChannelKind.SMS: 1800,
        ChannelKind.WHATSAPP: 1800,
        ChannelKind.TELEGRAM: 1800,
        ChannelKind.VOICE: 600,
    }


async def test_explicit_ttl_overrides_the_channel_default(
    store: SessionStore, redis: Redis
) -> None:
    await store.save(USSD, PHONE, Session(), ttl_s=30)
    assert 25_000 < await redis.pttl(store.keys.session(USSD, PHONE)) <= 30_000


async def test_save_at_a_stale_rev_raises_conflict_and_keeps_the_stored_session(
    store: SessionStore,
) -> None:
    first = await store.save(USSD, PHONE, Session(state="menu"))
    with pytest.raises(SessionConflict) as caught:
        await store.save(USSD, PHONE, Session(state="other"))  # rev 0: "there was none"
    assert (caught.value.expected, caught.value.found) == (0, 1)
    with pytest.raises(SessionConflict) as caught:
        await store.save(USSD, PHONE, first.with_(rev=5, state="other"))
    assert (caught.value.expected, caught.value.found) == (5, 1)
    assert await store.load(USSD, PHONE) == first


async def test_save_after_the_session_vanished_raises_conflict(store: SessionStore) -> None:
    saved = await store.save(USSD, PHONE, Session(state="menu"))
    await store.delete(USSD, PHONE)
    with pytest.raises(SessionConflict) as caught:
        await store.save(USSD, PHONE, saved)
    assert caught.value.found == 0
    assert await store.load(USSD, PHONE) is None


@pytest.mark.parametrize("start_rev", [0, 1])
async def test_concurrent_saves_of_one_rev_let_exactly_one_win(
    store: SessionStore, start_rev: int
) -> None:
    base = Session()
    if start_rev:
        base = await store.save(USSD, PHONE, base)
    outcomes: dict[str, Session | SessionConflict] = {}

    async def attempt(state: str) -> None:
        try:
            outcomes[state] = await store.save(USSD, PHONE, base.with_(state=state))
        except SessionConflict as exc:
            outcomes[state] = exc

    async with anyio.create_task_group() as tg:
        tg.start_soon(attempt, "a")
        tg.start_soon(attempt, "b")

    winners = [s for s in outcomes.values() if isinstance(s, Session)]
    losers = [e for e in outcomes.values() if isinstance(e, SessionConflict)]
    assert len(winners) == 1
    assert len(losers) == 1
    assert winners[0].rev == start_rev + 1
    assert losers[0].found == start_rev + 1
    assert await store.load(USSD, PHONE) == winners[0]


async def test_delete_forgets_the_session(store: SessionStore) -> None:
    await store.save(USSD, PHONE, Session(state="menu"))
    await store.delete(USSD, PHONE)
    assert await store.load(USSD, PHONE) is None
    assert (await store.save(USSD, PHONE, Session())).rev == 1


async def test_unreadable_session_restarts_at_start_and_keeps_its_rev(
    store: SessionStore, redis: Redis
) -> None:
    await store.save(USSD, PHONE, Session(state="menu"))
    await redis.hset(store.keys.session(USSD, PHONE), "doc", '{"state": 42')
    loaded = await store.load(USSD, PHONE)
    assert loaded == Session(rev=1)
    assert (await store.save(USSD, PHONE, loaded.with_(state="menu"))).rev == 2
