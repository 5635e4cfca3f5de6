"""The bulk gate (gateway/outbox/pressure.py) on the real Redis when it answers: bulk
producers pause past the high water mark and go on below the low one; interactive replies
and follow-ups never wait; the streams are never trimmed. Counted, never timed."""

from __future__ import annotations

import anyio
import pytest

from gateway.outbox.model import MessageKind
from gateway.outbox.pressure import BulkGate
from gateway.state.outbox import scripts
from gateway.state.outbox.priority import Priority
from tests.outbox.conftest import Rig, message

pytestmark = pytest.mark.anyio


def sample(rig: Rig, name: str) -> float | None:
    return rig.metrics.registry.get_sample_value(name)


async def drain(rig: Rig, keep: int) -> None:
    """What workers do, minus the sending: the oldest bulk entries leave the stream."""
    stream = rig.outbox.keys.stream(Priority.BULK)
    while await rig.redis.xlen(stream) > keep:
        [(entry_id, _)] = await rig.redis.xrange(stream, count=1)
        await rig.redis.xdel(stream, entry_id)


async def test_the_gate_shuts_past_high_water_and_opens_only_below_low(rig: Rig) -> None:
    gate = rig.outbox.gated(high=10, low=4, poll_s=0.01, metrics=rig.metrics)
    assert await rig.outbox.enqueue_many([message(n) for n in range(10)]) == 10
    assert await gate.open()  # at the mark, not past it
    assert await rig.outbox.enqueue_many([message(10)]) == 1  # 11 > 10: the next one waits
    assert not await gate.open()
    assert (gate.pauses, sample(rig, "massar_outbox_bulk_pauses_total")) == (1, 1)
    assert sample(rig, "massar_outbox_bulk_waiting") == 1
    await drain(rig, keep=6)
    assert not await gate.open()  # between the marks: still shut (hysteresis)
    await drain(rig, keep=4)
    assert not await gate.open()  # at low water: still shut
    await drain(rig, keep=3)
    assert await gate.open()
    assert sample(rig, "massar_outbox_bulk_waiting") == 0
    assert await gate.open()  # and stays open until high water again
    assert (gate.pauses, sample(rig, "massar_outbox_bulk_pauses_total")) == (1, 1)


async def test_bulk_waits_at_a_shut_gate_while_replies_and_follow_ups_go(rig: Rig) -> None:
    gate = rig.outbox.gated(high=5, low=2, poll_s=0.01, metrics=rig.metrics)
    await rig.outbox.enqueue_many([message(n) for n in range(6)])
    assert not await gate.open()
    late = message(99)
    queued: list[int] = []

    async def produce() -> None:
        queued.append(await rig.outbox.enqueue_many([late]))

    async with anyio.create_task_group() as tg:
        tg.start_soon(produce)
        with anyio.fail_after(10):  # generous: none of these waits for the gate
            reply = await rig.outbox.enqueue(message(1, kind=MessageKind.REPLY))
            follow = await rig.outbox.enqueue(message(2, kind=MessageKind.FOLLOWUP))
            # Interactive messages through the bulk API do not wait either.
            assert await rig.outbox.enqueue_many([message(3, kind=MessageKind.REPLY)]) == 1
        assert reply is not None
        assert follow is not None
        assert queued == []  # the bulk producer still waits
        assert not await rig.redis.exists(rig.outbox.keys.idem(rig.outbox.key_h(late)))
        await drain(rig, keep=1)
        with anyio.fail_after(30):
            while not queued:  # noqa: ASYNC110 - another task
                await anyio.sleep(0.01)
    assert queued == [1]
    assert gate.pauses == 1
    backlog = await rig.outbox.backlog()
    assert (backlog["interactive"], backlog["followup"], backlog["bulk"]) == (2, 1, 2)


async def test_a_worker_sends_a_reply_first_while_bulk_producers_wait(rig: Rig) -> None:
    gate = rig.outbox.gated(high=20, low=5, poll_s=0.01, metrics=rig.metrics)
    alerts = [message(n) for n in range(21)]
    await rig.outbox.enqueue_many(alerts)
    assert not await gate.open()
    reply = message(0, kind=MessageKind.REPLY)
    await rig.outbox.enqueue(reply)
    stop = anyio.Event()
    async with anyio.create_task_group() as tg:
        tg.start_soon(lambda: rig.worker(concurrency=4).run(stop=stop))
        with anyio.fail_after(60):
            while len(await rig.sent()) < 22:  # noqa: ASYNC110 - the worker's task
                await anyio.sleep(0.02)
        stop.set()
    sent = await rig.sent()
    assert sent[0]["key_h"] == rig.outbox.key_h(reply)  # the reply did not queue behind them
    assert sorted(s["key_h"] for s in sent) == sorted(rig.outbox.key_h(m) for m in [reply, *alerts])
    assert await gate.open()  # drained below low water


async def test_the_gate_refuses_marks_the_wrong_way_round(rig: Rig) -> None:
    with pytest.raises(ValueError, match="low water"):
        BulkGate(rig.outbox.depth, high=10, low=10)


def test_no_priority_stream_is_trimmed() -> None:
    """Only the dead-letter notes and the sink (development) are capped: a queued message
    leaves its stream when it is done, never because others came after it."""
    assert "MAXLEN" not in scripts.ENQUEUE
    assert "MAXLEN" not in scripts.PROMOTE
