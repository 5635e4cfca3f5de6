"""The alerts consumer at the bulk gate (in process, no worker: the test drains the stream as
workers would): past the high water mark it reads no further, its cursor stays after what it
queued, and below the low mark it reads on to the feed's head, every change queued once."""

from __future__ import annotations

import anyio
import pytest

from gateway.resilience.metrics import Metrics
from gateway.state.alerts.store import AlertStore
from gateway.state.outbox.priority import Priority
from tests.alerts.conftest import ADMIN, World

pytestmark = pytest.mark.anyio


async def test_the_consumer_waits_at_the_gate_and_reads_on_below_low_water(world: World) -> None:
    metrics = Metrics()
    gate = world.outbox.gated(high=10, low=3, poll_s=0.02, metrics=metrics)
    consumer = world.consumer(batch=5)
    while await consumer.step():
        pass
    made = await world.http.post("/_sandbox/events/generate", json={"absences": 40}, headers=ADMIN)
    assert made.status_code == 200, made.text
    head = (await world.backend().changes_head()).cursor
    store = AlertStore(world.engine, key_secret=world.key)
    bulk = world.outbox.keys.stream(Priority.BULK)
    drained: list[bytes] = []

    async def drain(keep: int) -> None:
        for entry_id, _ in await world.redis.xrange(bulk):
            if await world.redis.xlen(bulk) <= keep:
                return
            drained.append(entry_id)
            await world.redis.xdel(bulk, entry_id)

    async with anyio.create_task_group() as tg:
        tg.start_soon(consumer.run)
        with anyio.fail_after(60):
            while not gate.paused:  # noqa: ASYNC110 - the consumer's task
                await anyio.sleep(0.01)
            paused_at = await store.cursor()
            depth = await world.redis.xlen(bulk)
            assert paused_at != head
            assert 10 < depth <= 10 + 5 * 8  # one page past the mark at most
            await anyio.sleep(0.3)  # rounds at the shut gate: nothing more is read
            assert await store.cursor() == paused_at
            assert await world.redis.xlen(bulk) == depth
            assert metrics.registry.get_sample_value("massar_outbox_bulk_waiting") == 1
            while await store.cursor() != head:  # the workers' part, by hand
                await drain(keep=2)
                await anyio.sleep(0.02)
        tg.cancel_scope.cancel()
    assert gate.pauses >= 1  # more when the drain lags the consumer: timing, not asserted
    assert metrics.registry.get_sample_value("massar_outbox_bulk_pauses_total") == gate.pauses
    queued = len(drained) + await world.redis.xlen(bulk)
    assert queued == consumer.sent > 20  # every change queued once, none dropped
