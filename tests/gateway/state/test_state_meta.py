"""MetaSeen: a `wamid` answered once is known for 7 days, under a keyed hash of the id; a Redis
that does not answer is `StoreUnavailable`."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from gateway.state.errors import StoreUnavailable
from gateway.state.keys import Keys
from gateway.state.meta import SEEN_S, MetaSeen

pytestmark = [pytest.mark.anyio, pytest.mark.redis]

WAMID = "wamid.HBgMMjEyNjAwMDAwMDAxFQIAEhgg"


async def test_a_message_is_seen_once_marked_and_for_a_week(
    redis: Redis, key_secret: bytes, prefix: str
) -> None:
    seen = MetaSeen(redis, Keys(key_secret, prefix=prefix))
    assert not await seen.seen(WAMID)
    await seen.mark(WAMID)
    assert await seen.seen(WAMID)
    assert not await seen.seen(WAMID + "x")
    key = seen.keys.meta_seen(WAMID)
    assert WAMID not in key
    assert SEEN_S - 60 < await redis.ttl(key) <= SEEN_S


async def test_a_redis_that_does_not_answer_is_store_unavailable(key_secret: bytes) -> None:
    down = Redis(host="127.0.0.1", port=1, socket_connect_timeout=1, retry=Retry(NoBackoff(), 0))
    seen = MetaSeen(down, Keys(key_secret))
    try:
        with pytest.raises(StoreUnavailable):
            await seen.seen(WAMID)
        with pytest.raises(StoreUnavailable):
            await seen.mark(WAMID)
    finally:
        await down.aclose()
