"""EndedSessions: a USSD provider session that ended is remembered per phone, with the request
that ended it and its language, and read by the turn's first round trip (`end`, checked in
`SessionStore.open_turn`); a Redis that does not answer is `StoreUnavailable`."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from gateway.dialogs.model import ChannelKind, Lang, Session
from gateway.state.ends import end_lang
from gateway.state.errors import StoreUnavailable
from gateway.state.store import SESSION_TTL_S, Outcome, SessionStore
from gateway.state.ussd import EndedSessions

pytestmark = [pytest.mark.anyio, pytest.mark.redis]

PHONE = "+212612345678"
USSD = ChannelKind.USSD


@pytest.fixture
def sessions(redis: Redis, prefix: str, key_secret: bytes) -> SessionStore:
    return SessionStore(redis, key_secret=key_secret, prefix=prefix)


async def how_it_ended(
    sessions: SessionStore, phone: str, session_id: str, message_id: str, *, opens: bool = False
) -> str | None:
    """The language an answer to `session_id` is told its session ended in; None when the
    answer gets a turn (the lock it took is freed)."""
    end = EndedSessions(sessions).end(phone, session_id, message_id, opens=opens)
    opened = await sessions.open_turn(USSD, phone, message_id, end=end)
    if opened.outcome is Outcome.ENDED:
        return end_lang(opened.end)
    await sessions.release_turn(USSD, phone, opened)
    return None


async def test_an_answer_in_an_ended_session_learns_its_language(
    sessions: SessionStore, redis: Redis
) -> None:
    ended = EndedSessions(sessions)
    assert await how_it_ended(sessions, PHONE, "sess-1", "m2") is None
    await ended.mark(PHONE, "sess-1", "m1", "fr")
    assert await how_it_ended(sessions, PHONE, "sess-1", "m2") == "fr"
    assert await how_it_ended(sessions, PHONE, "sess-1", "m1") is None  # the ending one, again
    assert await how_it_ended(sessions, PHONE, "sess-2", "m2") is None  # another session
    assert await how_it_ended(sessions, "+212612345679", "sess-1", "m2") is None  # another phone
    key = ended.key(PHONE, "sess-1")
    assert 0 < await redis.ttl(key) <= SESSION_TTL_S[ChannelKind.USSD]
    assert "612345678" not in key
    assert "sess-1" not in key
    assert await how_it_ended(sessions, PHONE, "sess-1", "m3", opens=True) is None  # a dial
    assert await how_it_ended(sessions, PHONE, "sess-1", "m2") is None  # forgot it


async def test_a_network_end_takes_the_language_of_the_phones_session(
    sessions: SessionStore,
) -> None:
    ended = EndedSessions(sessions)
    await ended.mark_aborted(PHONE, "sess-1", "m1")
    assert await how_it_ended(sessions, PHONE, "sess-1", "m2") == "ar"  # not known: Arabic
    await sessions.save(ChannelKind.USSD, PHONE, Session(state="menu", lang=Lang.FR))
    await ended.mark_aborted(PHONE, "sess-2", "m1")
    assert await how_it_ended(sessions, PHONE, "sess-2", "m2") == "fr"


async def test_a_redis_that_does_not_answer_is_store_unavailable(key_secret: bytes) -> None:
    down = Redis(host="127.0.0.1", port=1, socket_connect_timeout=1, retry=Retry(NoBackoff(), 0))
    try:
        ended = EndedSessions(SessionStore(down, key_secret=key_secret))
        with pytest.raises(StoreUnavailable) as caught:
            await ended.mark(PHONE, "sess-1", "m1", "ar")
        assert caught.value.part == "redis"
        with pytest.raises(StoreUnavailable):
            await ended.mark_aborted(PHONE, "sess-1", "m1")  # its session read included
    finally:
        await down.aclose()
