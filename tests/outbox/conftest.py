"""The outbox on the real Redis when it answers (else fakeredis), SQLite records, a sink.

Each test gets an outbox of its own: the namespace comes from a fresh key, so streams,
markers and the sink never mix with another test's or another run's.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from redis.asyncio import Redis

from gateway.dialogs.model import Option
from gateway.outbox.model import MessageKind, OutChannel, OutMessage, SendError, outbound
from gateway.outbox.queue import Outbox
from gateway.outbox.senders.base import Sender
from gateway.outbox.senders.sink import SinkSender
from gateway.outbox.throttle import Pacer
from gateway.outbox.worker import OutboxWorker
from gateway.outbox.worker_config import Composer, WorkerConfig
from gateway.resilience.metrics import Metrics
from gateway.state.connections import open_redis
from gateway.state.migrate import upgrade
from gateway.state.outbox.bucket import TokenBucket
from gateway.state.outbox.records import MessageRecords
from gateway.state.outbox.sink import SinkStream
from tests.conftest import REDIS_TIMEOUT_S


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def redis(redis_url: str | None) -> AsyncIterator[Redis]:
    client, _ = open_redis(redis_url, timeout_s=REDIS_TIMEOUT_S)
    yield client
    await client.aclose()


@pytest.fixture
def engine(tmp_path: Path) -> sa.Engine:
    url = f"sqlite:///{tmp_path}/records.db"
    upgrade(url)  # the schema `python -m gateway migrate` makes
    return sa.create_engine(url)


def message(
    n: int = 0,
    *,
    to: str = "+212600000001",
    text: str | None = None,
    options: tuple[Option, ...] = (),
    kind: MessageKind = MessageKind.ALERT,
    created_at: datetime | None = None,
) -> OutMessage:
    return outbound(
        kind,
        key=f"test:{n}:{uuid.uuid4().hex}",
        channel=OutChannel.SMS,
        to=to,
        text=text if text is not None else f"message {n}",
        options=options,
        now=created_at or datetime.now(UTC),
    )


@dataclass
class Failing:
    """A sink's failure hook: the errors to raise, per message id, in order."""

    plan: dict[str, list[SendError]] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)

    def __call__(self, msg: OutMessage) -> SendError | None:
        self.calls[msg.id] = self.calls.get(msg.id, 0) + 1
        errors = self.plan.get(msg.id, [])
        return errors.pop(0) if errors else None


@dataclass
class Rig:
    """One test's outbox, sink, records and a way to build workers over them."""

    redis: Redis
    outbox: Outbox
    sink: SinkSender
    records: MessageRecords
    failing: Failing
    metrics: Metrics

    def worker(
        self,
        *,
        rate: float = 1000.0,
        burst: int = 1000,
        composer: Composer | None = None,
        sender: Sender | None = None,
        **config: Any,
    ) -> OutboxWorker:
        settings = {
            "consumer": f"w-{uuid.uuid4().hex[:6]}",
            "backoff_base_s": 0.01,
            "backoff_cap_s": 0.05,
            "reclaim_every_s": 0.2,
            **config,
        }
        bucket = TokenBucket(self.redis, self.outbox.keys.bucket("sms"), rate=rate, burst=burst)
        return OutboxWorker(
            self.outbox,
            senders={OutChannel.SMS: sender or self.sink},
            pacers={OutChannel.SMS: Pacer(bucket)},
            records=self.records,
            config=WorkerConfig(**settings),
            composer=composer,
            metrics=self.metrics,
            rng=random.Random(7),
        )

    async def sent(self) -> list[dict[str, str]]:
        return await self.sink.records()


@pytest.fixture
async def rig(redis: Redis, engine: sa.Engine) -> AsyncIterator[Rig]:
    key = f"outbox-test-{uuid.uuid4().hex}".encode()
    outbox = Outbox(redis, key_secret=key)
    failing = Failing()
    yield Rig(
        redis=redis,
        outbox=outbox,
        sink=SinkSender(SinkStream(redis, outbox.keys), outbox, fail=failing),
        records=MessageRecords(engine, key_secret=key),
        failing=failing,
        metrics=Metrics(),
    )
    async for name in redis.scan_iter(match=f"mg:{outbox.keys.tag}:*"):
        await redis.delete(name)


Until = Callable[[], Any]
