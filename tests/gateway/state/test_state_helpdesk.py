"""The helpdesk queue's store speaks `StoreError` at the state layer's boundary: a Redis that
does not answer is `StoreUnavailable` (the console's page says so), never a driver error."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

from gateway.outbox.queue import Outbox
from gateway.state.errors import StoreError, StoreUnavailable
from gateway.state.helpdesk import HelpdeskQueue

pytestmark = pytest.mark.anyio


async def test_a_redis_that_does_not_answer_is_store_unavailable(key_secret: bytes) -> None:
    down = Redis(host="127.0.0.1", port=1, socket_connect_timeout=1)  # nothing listens there
    queue = HelpdeskQueue(
        down,
        key_secret=key_secret,
        send=Outbox(down, key_secret=key_secret).reply,
        expiry_s=3600,
        hotline="0800 00 11 22",
    )
    try:
        with pytest.raises(StoreUnavailable) as caught:
            await queue.open_items()
    finally:
        await down.aclose()
    assert isinstance(caught.value, StoreError)
    assert isinstance(caught.value.__cause__, RedisError)  # the driver's error, kept as cause
