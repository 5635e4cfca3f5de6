"""Redis for the state tests: the real test database when it answers, else fakeredis.

Every test gets its own key prefix (db 15 is shared with other tests) and drops its keys after.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from gateway.state.connections import open_redis
from tests.conftest import REDIS_TIMEOUT_S


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def prefix() -> str:
    return f"mgtest-{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def redis(redis_url: str | None, prefix: str) -> AsyncIterator[Redis]:
    client, _kind = open_redis(redis_url, timeout_s=REDIS_TIMEOUT_S)
    try:
        yield client
    finally:
        keys = [key async for key in client.scan_iter(match=f"{prefix}:*", count=500)]
        if keys:
            await client.delete(*keys)
        await client.aclose()


@pytest.fixture
def key_secret() -> bytes:
    return b"state-test-key"
