"""What the outbox's senders keep in Redis: the sink's stream (every send, its key marked sent
in the same script) and Telegram's one bucket per chat."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from gateway.state.outbox.bucket import ChatBuckets
from gateway.state.outbox.keys import OutboxKeys
from gateway.state.outbox.sink import SinkStream
from gateway.state.outbox.streams import SENT_TTL_S

pytestmark = [pytest.mark.anyio, pytest.mark.redis]


@pytest.fixture
async def keys(redis: Redis) -> AsyncIterator[OutboxKeys]:
    """An outbox namespace of this test's own, emptied afterwards."""
    keys = OutboxKeys("mg", uuid.uuid4().hex[:8])
    yield keys
    async for name in redis.scan_iter(match=f"mg:{keys.tag}:*"):
        await redis.delete(name)


async def test_every_send_is_kept_and_its_key_marked_sent(redis: Redis, keys: OutboxKeys) -> None:
    sink = SinkStream(redis, keys)
    fields = {"key_h": "h1", "id": "m1", "channel": "sms", "to": "+212600000001", "text": "Hi"}
    first = await sink.record("h1", fields)
    second = await sink.record("h1", {**fields, "id": "m2"})  # a double send shows
    assert first != second
    assert [row["id"] for row in await sink.entries()] == ["m1", "m2"]
    assert (await sink.entries())[0] == fields
    assert await redis.get(keys.sent("h1")) == f"sink-{second}".encode()
    assert SENT_TTL_S - 60 < await redis.ttl(keys.sent("h1")) <= SENT_TTL_S


async def test_a_chat_gets_one_message_at_a_time(redis: Redis, keys: OutboxKeys) -> None:
    chats = ChatBuckets(redis, keys, rate=1.0)
    assert await chats.take("chat-a") == (1, 0)
    taken, wait_ms = await chats.take("chat-a")
    assert taken == 0
    assert 0 < wait_ms <= 1000
    assert await chats.take("chat-b") == (1, 0)  # another chat has its own bucket
    assert await redis.exists(keys.chat_bucket("chat-a"))


async def test_a_chat_bucket_needs_a_rate(redis: Redis) -> None:
    with pytest.raises(ValueError, match="rate"):
        ChatBuckets(redis, OutboxKeys(), rate=0)
