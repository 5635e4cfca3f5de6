"""The outbox on a real Redis Cluster: priority streams read together, claims, retries through
the delayed set, the shared pace and the sink, with every key on one slot (no CROSSSLOT)."""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path

import anyio
import pytest
import redis
import sqlalchemy as sa

from gateway.outbox.model import MessageKind, OutChannel, SendError
from gateway.outbox.queue import Outbox
from gateway.outbox.records import MessageRecords
from gateway.outbox.senders.sink import SinkSender
from gateway.outbox.throttle import Pacer
from gateway.outbox.worker import OutboxWorker
from gateway.outbox.worker_config import WorkerConfig
from gateway.state.connections import open_redis, warm_up
from gateway.state.outbox.bucket import TokenBucket
from gateway.state.outbox.priority import Priority
from gateway.state.schema import metadata
from tests.cluster.test_cluster import assert_cluster_ready, keys_by_node
from tests.outbox.conftest import Failing, message

pytestmark = [pytest.mark.slow, pytest.mark.anyio]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def cluster(cluster_ports: list[int]) -> AsyncIterator[redis.asyncio.RedisCluster]:
    client, kind = open_redis(f"redis+cluster://127.0.0.1:{cluster_ports[0]}")
    assert kind == "redis cluster"
    await warm_up(client)  # as the app does: redis-py's cluster client races its first burst
    try:
        yield client  # type: ignore[misc]
    finally:
        await client.aclose()


async def test_the_outbox_sends_retries_and_records_on_a_cluster(
    cluster: redis.asyncio.RedisCluster, cluster_ports: list[int], tmp_path: Path
) -> None:
    key = f"cluster-outbox-{uuid.uuid4().hex}".encode()
    outbox = Outbox(cluster, key_secret=key)  # type: ignore[arg-type]
    failing = Failing()
    sink = SinkSender(cluster, outbox, fail=failing)  # type: ignore[arg-type]
    engine = sa.create_engine(f"sqlite:///{tmp_path}/records.db")
    metadata.create_all(engine)
    records = MessageRecords(engine, key_secret=key)
    msgs = [message(n, priority=Priority(n % 3)) for n in range(12)]
    flaky = msgs[0]
    failing.plan[flaky.id] = [SendError("http:503", retryable=True)]
    followup = message(99, kind=MessageKind.FOLLOWUP, priority=Priority.FOLLOWUP)
    for msg in msgs:
        assert await outbox.enqueue(msg)
    assert await outbox.enqueue(followup, guard="question", guard_ttl_s=60)
    assert await outbox.enqueue(message(100), guard="question", guard_ttl_s=60) is None
    worker = OutboxWorker(
        outbox,
        senders={OutChannel.SMS: sink},
        pacers={
            OutChannel.SMS: Pacer(
                TokenBucket(cluster, outbox.keys.bucket("sms"), rate=100, burst=5)
            )  # type: ignore[arg-type]
        },
        records=records,
        config=WorkerConfig(
            consumer="c1",
            backoff_base_s=0.01,
            backoff_cap_s=0.05,
            reclaim_idle_ms=1000,  # a send cut by a Redis error is taken up again soon
            reclaim_every_s=0.5,
        ),
        rng=random.Random(1),
    )
    stop = anyio.Event()
    async with anyio.create_task_group() as tg:
        tg.start_soon(partial(worker.run, stop=stop))
        with anyio.fail_after(20):
            while len(await sink.records()) < len(msgs) + 1:  # noqa: ASYNC110 - another process's state
                await anyio.sleep(0.05)
        stop.set()
    assert sorted(r["id"] for r in await sink.records()) == sorted(m.id for m in [*msgs, followup])
    assert failing.calls[flaky.id] == 2  # retried through the delayed set
    assert await outbox.backlog() == {"interactive": 0, "followup": 0, "bulk": 0, "delayed": 0}
    written = [k for k in keys_by_node(cluster_ports) if outbox.keys.tag in k]
    assert_cluster_ready(written)
    assert len({k.split("}")[0] for k in written}) == 1  # one tag: one slot
    sent = await records.get(flaky.id)
    assert sent is not None
    assert (sent["status"], sent["attempts"]) == ("sent", 2)
