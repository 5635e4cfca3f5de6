"""A provider session's end inside a turn's two round trips (`gateway.state.ends`,
`SessionStore.open_turn` and `close_turn`): forgotten by a dial, checked before anything else
by an answer, kept by the answer that ends the session, never in the way of a repeat."""

from __future__ import annotations

import json

import pytest
from redis.asyncio import Redis

from gateway.dialogs.model import ChannelKind, Session
from gateway.state.ends import SessionEnd, end_doc, end_lang
from gateway.state.store import Outcome, SessionStore

pytestmark = [pytest.mark.anyio, pytest.mark.redis]

PHONE = "+212612345678"
USSD = ChannelKind.USSD


@pytest.fixture
def store(redis: Redis, prefix: str, key_secret: bytes) -> SessionStore:
    return SessionStore(redis, key_secret=key_secret, prefix=prefix)


def end_of(store: SessionStore, message_id: str, *, opens: bool = False) -> SessionEnd:
    """The end of one provider session (its key as `EndedSessions` names it), for one request."""
    key = store.keys.ussd_ended(PHONE, "s1")
    return SessionEnd(key=key, mark=store.keys.digest(message_id), opens=opens, ttl_s=180)


async def close(store: SessionStore, message_id: str, answer: bytes, end: SessionEnd) -> None:
    """A turn for `message_id` whose answer ends the provider session, said in French."""
    opened = await store.open_turn(USSD, PHONE, message_id, end=end)
    assert opened.outcome is Outcome.RUN
    session = opened.session or Session()
    await store.close_turn(
        USSD, PHONE, message_id, opened, session, answer, remember_s=60, end=(end, "fr")
    )


async def test_the_answer_that_ends_the_session_keeps_its_end_in_the_same_script(
    store: SessionStore, redis: Redis
) -> None:
    end = end_of(store, "k:1")
    await close(store, "k:1", b"END bye", end)
    kept = await redis.get(end.key)
    assert json.loads(kept) == {"m": store.keys.digest("k:1"), "l": "fr"}
    assert kept.decode() == end_doc(end, "fr")  # the value as it always was written
    assert 175 < await redis.ttl(end.key) <= 180
    assert await redis.exists(store.keys.lock(USSD, PHONE)) == 0


async def test_an_answer_after_the_end_is_refused_before_the_lock_the_count_or_the_session(
    store: SessionStore, redis: Redis
) -> None:
    await close(store, "k:1", b"END bye", end_of(store, "k:1"))
    late = end_of(store, "k:2")
    opened = await store.open_turn(USSD, PHONE, "k:2", rate_limit=1, end=late)
    assert opened.outcome is Outcome.ENDED
    assert end_lang(opened.end) == "fr"
    assert opened.session is None
    assert opened.token == ""
    assert await redis.exists(store.keys.lock(USSD, PHONE)) == 0
    assert await redis.zcard(store.keys.turns(PHONE)) == 0  # not counted
    assert await store.remembered(USSD, PHONE, "k:2") is None


async def test_a_repeat_of_the_request_that_ended_it_gets_its_answer(store: SessionStore) -> None:
    end = end_of(store, "k:1")
    await close(store, "k:1", b"END bye", end)
    again = await store.open_turn(USSD, PHONE, "k:1", end=end)
    assert (again.outcome, again.answer) == (Outcome.REPLAY, b"END bye")


async def test_an_answer_after_the_end_never_gets_an_answer_remembered_before_it(
    store: SessionStore,
) -> None:
    """k:1 answered, then k:2 ended the session: a late repeat of k:1 gets the end, not the
    screen it had (what that screen showed belongs to a session that is over)."""
    first = await store.open_turn(USSD, PHONE, "k:1", end=end_of(store, "k:1"))
    await store.close_turn(USSD, PHONE, "k:1", first, Session(), b"CON menu", remember_s=60)
    await close(store, "k:2", b"END bye", end_of(store, "k:2"))
    late = await store.open_turn(USSD, PHONE, "k:1", end=end_of(store, "k:1"))
    assert late.outcome is Outcome.ENDED


async def test_a_dial_forgets_the_end_and_runs(store: SessionStore, redis: Redis) -> None:
    end = end_of(store, "k:1")
    await close(store, "k:1", b"END bye", end)
    dial = end_of(store, "k:3", opens=True)
    opened = await store.open_turn(USSD, PHONE, "k:3", end=dial)
    assert opened.outcome is Outcome.RUN
    assert await redis.exists(end.key) == 0
    await store.release_turn(USSD, PHONE, opened)
    assert (await store.open_turn(USSD, PHONE, "k:4", end=end_of(store, "k:4"))).outcome is (
        Outcome.RUN
    )


async def test_an_end_that_does_not_parse_still_ends_in_arabic(
    store: SessionStore, redis: Redis
) -> None:
    end = end_of(store, "k:2")
    for raw in (b"not json", b"[1]", b'{"l": "en"}'):
        await redis.set(end.key, raw, ex=60)
        opened = await store.open_turn(USSD, PHONE, "k:2", end=end)
        assert opened.outcome is Outcome.ENDED, raw
        assert end_lang(opened.end) == "ar"


async def test_kept_outside_a_turn_as_a_network_abort_keeps_it(
    store: SessionStore, redis: Redis
) -> None:
    end = end_of(store, "k:9")
    await store.keep_end(end, None)
    assert json.loads(await redis.get(end.key)) == {"m": store.keys.digest("k:9"), "l": None}
    opened = await store.open_turn(USSD, PHONE, "k:10", end=end_of(store, "k:10"))
    assert (opened.outcome, end_lang(opened.end)) == (Outcome.ENDED, "ar")


async def test_without_an_end_the_turn_is_what_it_was(store: SessionStore, redis: Redis) -> None:
    opened = await store.open_turn(USSD, PHONE, "m1")
    await store.close_turn(USSD, PHONE, "m1", opened, Session(), b"CON Menu", remember_s=60)
    assert [key async for key in redis.scan_iter(match=f"{store.keys.prefix}:*:ussd:ended:*")] == []
