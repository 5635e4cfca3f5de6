"""EndedSessions: a USSD provider session that ended is remembered per phone, with the request
that ended it and its language; a Redis that does not answer is `StoreUnavailable`."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from gateway.dialogs.model import ChannelKind, Lang, Session
from gateway.state.errors import StoreUnavailable
from gateway.state.store import SESSION_TTL_S, SessionStore
from gateway.state.ussd import Ended, EndedSessions

pytestmark = [pytest.mark.anyio, pytest.mark.redis]

PHONE = "+212612345678"


@pytest.fixture
def sessions(redis: Redis, prefix: str, key_secret: bytes) -> SessionStore:
    return SessionStore(redis, key_secret=key_secret, prefix=prefix)


async def test_an_answer_in_an_ended_session_learns_its_language(
    sessions: SessionStore, redis: Redis
) -> None:
    ended = EndedSessions(sessions)
    assert await ended.ended(PHONE, "sess-1", "m2") is None
    await ended.mark(PHONE, "sess-1", "m1", "fr")
    assert await ended.ended(PHONE, "sess-1", "m2") == Ended(lang="fr")
    assert await ended.ended(PHONE, "sess-1", "m1") is None  # the request that ended it, again
    assert await ended.ended(PHONE, "sess-2", "m2") is None  # another provider session
    assert await ended.ended("+212612345679", "sess-1", "m2") is None  # another phone
    key = ended.key(PHONE, "sess-1")
    assert 0 < await redis.ttl(key) <= SESSION_TTL_S[ChannelKind.USSD]
    assert "612345678" not in key
    assert "sess-1" not in key
    await ended.clear(PHONE, "sess-1")
    assert await ended.ended(PHONE, "sess-1", "m2") is None


async def test_a_network_end_takes_the_language_of_the_phones_session(
    sessions: SessionStore,
) -> None:
    ended = EndedSessions(sessions)
    await ended.mark_aborted(PHONE, "sess-1", "m1")
    assert await ended.ended(PHONE, "sess-1", "m2") == Ended(lang=None)  # no session: unknown
    await sessions.save(ChannelKind.USSD, PHONE, Session(state="menu", lang=Lang.FR))
    await ended.mark_aborted(PHONE, "sess-2", "m1")
    assert await ended.ended(PHONE, "sess-2", "m2") == Ended(lang="fr")


async def test_a_redis_that_does_not_answer_is_store_unavailable(key_secret: bytes) -> None:
    down = Redis(host="127.0.0.1", port=1, socket_connect_timeout=1, retry=Retry(NoBackoff(), 0))
    try:
        ended = EndedSessions(SessionStore(down, key_secret=key_secret))
        with pytest.raises(StoreUnavailable) as caught:
            await ended.ended(PHONE, "sess-1", "m1")
        assert caught.value.part == "redis"
        with pytest.raises(StoreUnavailable):
            await ended.mark_aborted(PHONE, "sess-1", "m1")  # its session read included
        with pytest.raises(StoreUnavailable):
            await ended.clear(PHONE, "sess-1")
    finally:
        await down.aclose()
