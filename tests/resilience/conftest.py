"""Redis for the resilience tests (the real server when it answers, else fakeredis), and a
gateway over the sandbox behind a transport the tests can slow down or break."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from fastapi.testclient import TestClient
from redis.asyncio import Redis

from gateway.app import create_app
from gateway.state.connections import open_redis
from tests.conftest import REDIS_TIMEOUT_S
from tests.databases import migrated
from tests.gateway.conftest import (  # noqa: F401 (fixtures)
    PUBLIC_URL,
    gateway_settings,
    sandbox_app,
    sandbox_database,
    seeded_sandbox_file,
)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def redis(redis_url: str | None) -> AsyncIterator[Redis]:
    if redis_url is None:
        client: Redis = open_redis(None)[0]
        yield client
        await client.aclose()
        return
    client, _ = open_redis(redis_url, timeout_s=REDIS_TIMEOUT_S)
    yield client
    await client.aclose()


@pytest.fixture
async def prefix(redis: Redis) -> AsyncIterator[str]:
    """A key prefix of this test's own; its keys are deleted afterwards."""
    name = f"t{uuid.uuid4().hex[:12]}"
    yield name
    async for key in redis.scan_iter(match=f"{name}:*"):
        await redis.delete(key)


class FaultyTransport(httpx.AsyncBaseTransport):
    """Forwards to the sandbox, counting calls per path; `slow` paths wait `delay` first (or
    time out at the request's read timeout, as a socket would),
    `fail` paths answer 500, and `trickle` paths send their body one byte at a time."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.calls: Counter[str] = Counter()
        self.slow: tuple[str, ...] = ()
        self.fail: tuple[str, ...] = ()
        self.trickle: tuple[str, ...] = ()
        self.delay = 2.5

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.calls[path] += 1
        if any(p in path for p in self.fail):
            return httpx.Response(
                500,
                json={"type": "about:blank", "title": "boom", "status": 500, "code": "internal"},
                headers={"content-type": "application/problem+json"},
            )
        if any(p in path for p in self.trickle):
            return httpx.Response(
                200, stream=_Trickle(), headers={"content-type": "application/json"}
            )
        if any(p in path for p in self.slow):
            # Like a socket: the request's read timeout cuts a slow answer short.
            read = (request.extensions.get("timeout") or {}).get("read")
            if read is not None and read < self.delay:
                await anyio.sleep(read)
                raise httpx.ReadTimeout("read timed out", request=request)
            await anyio.sleep(self.delay)
        return await self.inner.handle_async_request(request)

    def called(self, fragment: str) -> int:
        return sum(n for path, n in self.calls.items() if fragment in path)


class _Trickle(httpx.AsyncByteStream):
    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b"{"
        while True:
            await anyio.sleep(0.2)
            yield b" "


@pytest.fixture
def faulty_gateway(
    tmp_path: Path,
    redis_url: str | None,
    sandbox_app: Any,  # noqa: F811 (the imported fixture)
) -> Iterator[Callable[..., tuple[TestClient, FaultyTransport]]]:
    clients: list[TestClient] = []

    def make(
        *, provider_transport: httpx.AsyncBaseTransport | None = None, **overrides: object
    ) -> tuple[TestClient, FaultyTransport]:
        transport = FaultyTransport(httpx.ASGITransport(app=sandbox_app))
        settings = gateway_settings(tmp_path, overrides.pop("redis_url", redis_url), **overrides)
        app = create_app(
            migrated(settings), backend_transport=transport, provider_transport=provider_transport
        )
        client = TestClient(app, base_url=PUBLIC_URL)
        client.__enter__()
        clients.append(client)
        return client, transport

    yield make
    for client in clients:
        client.__exit__(None, None, None)
