"""Alerts against the seeded sandbox (in-process, over ASGI), the real Redis when it answers
(else fakeredis), the outbox's sink, and a gateway database on SQLite or PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from redis.asyncio import Redis

from backend_client import MassarClient
from gateway.alerts.consumer import AlertsConfig, AlertsConsumer
from gateway.alerts.quiet import QuietHours
from gateway.outbox.queue import Outbox
from gateway.resilience.cache import Cache
from gateway.state.alerts.lease import Lease
from gateway.state.alerts.preferences import SqlPreferences
from gateway.state.alerts.store import AlertStore
from gateway.state.connections import open_database
from gateway.state.keys import Keys
from gateway.state.migrate import upgrade
from tests.databases import empty_database
from tests.gateway.conftest import sandbox_app, sandbox_database, seeded_sandbox_file
from tests.outbox.conftest import anyio_backend, redis

__all__ = ["anyio_backend", "redis", "sandbox_app", "sandbox_database", "seeded_sandbox_file"]

ADMIN = {"Authorization": "Bearer sandbox-admin"}
KHADIJA, RACHID = "+212600000001", "+212700000001"


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_url: str | None
) -> Iterator[sa.Engine]:
    """The gateway's database as `python -m gateway migrate` leaves it."""
    with empty_database(request.param, tmp_path, postgres_url) as url:
        upgrade(url)
        engine = open_database(url)
        yield engine
        engine.dispose()


@pytest.fixture
async def backend_http(sandbox_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sandbox_app), base_url="http://sandbox.test"
    ) as http:
        yield http


@dataclass
class World:
    """One test's alerts: the sandbox, the outbox, preferences, and consumers over them."""

    http: httpx.AsyncClient
    redis: Redis
    engine: sa.Engine
    key: bytes
    outbox: Outbox
    preferences: SqlPreferences
    cache: Cache
    clock: list[datetime]

    def backend(self) -> MassarClient:
        return MassarClient("http://sandbox.test/api/v1", "sandbox-token", http=self.http)

    def consumer(self, *, batch: int = 200, quiet: str = "none", **kw: Any) -> AlertsConsumer:
        return AlertsConsumer(
            feed=kw.pop("feed", None) or self.backend(),
            outbox=self.outbox,
            preferences=self.preferences,
            store=kw.pop("store", None) or AlertStore(self.engine, key_secret=self.key),
            lease=Lease(self.redis, Keys.alerts_lease(self.outbox.keys.ns), ttl_s=5),
            quiet=QuietHours.parse(quiet),
            cache=self.cache,
            config=AlertsConfig(batch=batch, poll_s=0.05, retry_s=0.05),
            now=lambda: self.clock[0],
            metrics=kw.pop("metrics", None),
        )

    async def absence(self, student: str, day: str = "2026-05-20", start: str = "08:30") -> dict:
        body = {"student_id": student, "date": day, "start_time": start, "hours": 2}
        reply = await self.http.post("/_sandbox/absences", json=body, headers=ADMIN)
        assert reply.status_code == 201, reply.text
        return dict(reply.json())

    async def children(self, phone: str = KHADIJA) -> tuple[str, list[str]]:
        reply = await self.http.post(
            "/api/v1/guardians/lookup",
            json={"phone": phone},
            headers={"Authorization": "Bearer sandbox-token"},
        )
        body = reply.json()
        return body["guardian"]["id"], [s["id"] for s in body["students"]]

    async def queued(self) -> list[dict[str, Any]]:
        """Every alert in the outbox's bulk stream, oldest first (decoded)."""
        from gateway.outbox.entries import decode
        from gateway.state.outbox.priority import Priority

        rows = await self.redis.xrange(self.outbox.keys.stream(Priority.BULK))
        out = []
        for entry_id, fields in rows:
            msg = decode(self.outbox.keys.stream(Priority.BULK), str(entry_id), fields).message
            out.append({"to": msg.to, "text": msg.text, "key": msg.key, "kind": msg.kind.value})
        return out


@pytest.fixture
async def world(
    backend_http: httpx.AsyncClient, redis: Redis, engine: sa.Engine
) -> AsyncIterator[World]:
    key = f"alerts-test-{uuid.uuid4().hex}".encode()
    outbox = Outbox(redis, key_secret=key)
    yield World(
        http=backend_http,
        redis=redis,
        engine=engine,
        key=key,
        outbox=outbox,
        preferences=SqlPreferences(engine, key_secret=key),
        cache=Cache(redis, key_secret=key),
        clock=[datetime(2026, 5, 20, 10, 0, tzinfo=UTC)],
    )
    async for name in redis.scan_iter(match=f"mg:*{outbox.keys.ns}*"):
        await redis.delete(name)


Until = Callable[[], Any]
