"""No alert lost at any backlog (issue #24 item 5): a publication of more than 500 alerts
through the real consumer, with the bulk gate's high water at 50, real `python -m gateway
worker` processes (sink sender) on the real Redis. The consumer pauses (its cursor stays
where it queued), an interactive reply queued during the pause goes out first, the consumer
and a worker are killed while paused and others take over; at the end every queued key was
sent exactly once and none was trimmed (each idempotency key has its sent marker and one
sink record)."""

from __future__ import annotations

import os
import signal
import subprocess
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import anyio
import pytest

from gateway.alerts.consumer import AlertsConsumer
from gateway.outbox.model import MessageKind, OutChannel, outbound
from gateway.outbox.pressure import BulkGate
from gateway.outbox.queue import Outbox
from gateway.resilience.metrics import Metrics
from gateway.state.alerts.store import AlertStore
from gateway.state.outbox.priority import Priority
from tests.alerts.conftest import ADMIN, World
from tests.alerts.test_worker_crash import sink_keys
from tests.conftest import REAL_REDIS, REDIS_URL
from tests.outbox.test_outbox_crash import start_worker

pytestmark = [pytest.mark.anyio, pytest.mark.redis, pytest.mark.slow]

HIGH, LOW = 50, 20


async def until(check: Callable[[], Awaitable[bool]], timeout_s: float = 120.0) -> None:
    with anyio.fail_after(timeout_s):
        while not await check():  # noqa: ASYNC110 - other processes
            await anyio.sleep(0.05)


def restarted(world: World, metrics: Metrics) -> tuple[AlertsConsumer, Outbox]:
    """A consumer as a freshly started process has it: its own outbox and gate state."""
    outbox = Outbox(world.redis, key_secret=world.key)
    outbox.gated(high=HIGH, low=LOW, poll_s=0.05, metrics=metrics)
    consumer = world.consumer(batch=20)
    consumer.outbox = outbox
    return consumer, outbox


def stop_all(procs: list[subprocess.Popen[bytes]]) -> list[int]:
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
    return [proc.wait(timeout=30) for proc in procs]


@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
async def test_alerts_past_the_high_water_mark_are_each_sent_once(
    world: World, tmp_path: Path
) -> None:
    if not REAL_REDIS:
        pytest.skip("needs a Redis server: worker processes cannot share the in-process stand-in")
    metrics = Metrics()
    store = AlertStore(world.engine, key_secret=world.key)
    bulk = world.outbox.keys.stream(Priority.BULK)
    consumer, outbox = restarted(world, metrics)
    while await consumer.step():  # the cursor at the feed's head: only what follows counts
        pass
    made = await world.http.post("/_sandbox/events/generate", json={"absences": 400}, headers=ADMIN)
    assert made.status_code == 200, made.text
    head = (await world.backend().changes_head()).cursor

    # 1. No worker yet: the consumer queues until the gate shuts, then reads no further.
    gate = outbox.gate
    assert gate is not None
    async with anyio.create_task_group() as tg:
        tg.start_soon(consumer.run)
        await until(shut(gate))
        depth = await world.redis.xlen(bulk)
        assert HIGH < depth <= HIGH + 20 * 8  # past the mark by at most one page's messages
        paused_at = await store.cursor()
        assert paused_at != head
        # 2. An interactive reply while bulk producers wait: queued at once.
        reply = outbound(
            MessageKind.REPLY,
            key="reply-during-pause",
            channel=OutChannel.SMS,
            to="+212600000001",
            text="reply",
            now=datetime.now(UTC),
        )
        with anyio.fail_after(10):  # generous: it never waits for the gate
            assert await outbox.enqueue(reply) is not None
        await anyio.sleep(0.5)  # ten of the consumer's rounds, all shut
        assert gate.paused
        assert await store.cursor() == paused_at  # nothing read past what was queued
        assert await world.redis.xlen(bulk) == depth
        tg.cancel_scope.cancel()  # 3. the consumer killed while paused

    env = {
        **os.environ,
        "GATEWAY_ENV": "test",
        "GATEWAY_REDIS_URL": REDIS_URL,
        "GATEWAY_DATABASE_URL": world.engine.url.render_as_string(hide_password=False),
        "GATEWAY_IDENTITY_KEY": world.key.decode(),
        "GATEWAY_OUTBOX_RATE_SMS": "40",  # slower than the consumer fills: it pauses again
        "GATEWAY_OUTBOX_BURST_SMS": "10",
        "GATEWAY_OUTBOX_LEASE_S": "1",
        "GATEWAY_FOLLOWUP_BUDGET_S": "0.5",
        "GATEWAY_OUTBOX_RECLAIM_IDLE_S": "1.5",
        "GATEWAY_LOG_FORMAT": "json",
        "GATEWAY_LOG_FILE": str(tmp_path / "workers.log"),
    }
    # 4. A worker drains; a restarted consumer goes on, pauses again; both are killed while
    # it is paused.
    first = start_worker(env, "first")
    try:
        consumer, outbox = restarted(world, metrics)
        second_gate = outbox.gate
        assert second_gate is not None
        async with anyio.create_task_group() as tg:
            tg.start_soon(consumer.run)
            await until(lambda: _count(world, 150))
            await until(shut(second_gate))
            first.send_signal(signal.SIGKILL)  # mid-batch: claims, sends and records in flight
            tg.cancel_scope.cancel()
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    sent = await sink_keys(world)
    assert sent[0] == outbox.key_h(reply)  # the reply went before the backlog
    assert await store.cursor() != head  # work was left

    # 5. Others take over: everything goes, once.
    consumer, outbox = restarted(world, metrics)
    others = [start_worker(env, "second"), start_worker(env, "third")]
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(consumer.run)

            async def done() -> bool:
                return await store.cursor() == head and await world.redis.xlen(bulk) == 0

            await until(done, timeout_s=300)
            tg.cancel_scope.cancel()
        await anyio.sleep(0.5)  # room for a late duplicate, were one on its way
    finally:
        codes = stop_all(others)
    assert codes == [0, 0]
    idem_prefix = outbox.keys.idem("")
    queued = {
        key.decode().removeprefix(idem_prefix)
        async for key in world.redis.scan_iter(match=f"{idem_prefix}*", count=1000)
    }
    sends = Counter(await sink_keys(world))
    assert len(queued) > 500  # the alerts, and the reply
    assert set(sends) == queued  # none trimmed, none lost
    assert max(sends.values()) == 1, sends.most_common(3)  # none twice
    for key_h in queued:
        assert await world.redis.exists(outbox.keys.sent(key_h))
    pauses = metrics.registry.get_sample_value("massar_outbox_bulk_pauses_total")
    assert pauses is not None
    assert pauses >= 2  # before the workers, and again while they drained


def shut(gate: BulkGate) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return gate.paused

    return check


async def _count(world: World, count: int) -> bool:
    return len(await sink_keys(world)) >= count
