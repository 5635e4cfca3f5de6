"""The outbox's backlog gauges (deploy/prometheus/rules.yml watches them): entries waiting per
priority and the oldest one's age by Redis' clock; a sender worker sets them as it runs, back
to 0 once it has sent everything; a failure is counted under its sender."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from gateway.console.dashboard import outbox_state
from gateway.outbox.gauges import observe_backlog
from gateway.outbox.model import MessageKind, Priority, SendError
from tests.outbox.conftest import Rig, message
from tests.outbox.test_outbox_worker import running, settled, until

pytestmark = [pytest.mark.anyio, pytest.mark.redis]


def gauge(rig: Rig, name: str, priority: str) -> float | None:
    return rig.metrics.registry.get_sample_value(name, {"priority": priority})


async def test_the_backlog_counts_each_priority_and_ages_its_oldest_entry(rig: Rig) -> None:
    for n in range(2):
        await rig.outbox.enqueue(message(n, kind=MessageKind.ALERT))
    await rig.outbox.enqueue(message(9, kind=MessageKind.REPLY))
    # An entry whose id says it was added one second after the epoch: its age is known.
    await rig.redis.xadd(rig.outbox.keys.stream(Priority.FOLLOWUP), {"m": "{}"}, id="1000-0")
    await observe_backlog(rig.outbox, rig.metrics)
    sizes = {p: gauge(rig, "massar_outbox_backlog", p) for p in ("interactive", "followup", "bulk")}
    assert sizes == {"interactive": 1, "followup": 1, "bulk": 2}
    assert gauge(rig, "massar_outbox_backlog", "delayed") == 0
    seconds, _ = await rig.redis.time()
    followup = gauge(rig, "massar_outbox_oldest_age_seconds", "followup")
    assert followup is not None
    assert int(seconds) - 2 <= followup <= int(seconds)
    bulk = gauge(rig, "massar_outbox_oldest_age_seconds", "bulk")
    assert bulk is not None
    assert 0 <= bulk < followup


async def test_a_worker_sets_the_gauges_and_they_fall_to_zero_once_sent(rig: Rig) -> None:
    msgs = [message(n, kind=MessageKind.ALERT) for n in range(5)]
    for msg in msgs:
        await rig.outbox.enqueue(msg)
    await observe_backlog(rig.outbox, rig.metrics)
    assert gauge(rig, "massar_outbox_backlog", "bulk") == 5

    async def drained() -> bool:
        return (
            gauge(rig, "massar_outbox_backlog", "bulk") == 0
            and gauge(rig, "massar_outbox_oldest_age_seconds", "bulk") == 0
        )

    async with running(rig.worker(reclaim_every_s=0.05)):
        await until(lambda: settled(rig))
        await until(drained)  # the worker's own loop read the gauges again
    assert len(await rig.sent()) == 5


async def test_a_failed_message_is_counted_under_its_sender(rig: Rig) -> None:
    msg = message(1)
    rig.failing.plan[msg.id] = [SendError("refused", retryable=False)]
    await rig.outbox.enqueue(msg)
    async with running(rig.worker()):
        await until(lambda: settled(rig))
    failed = rig.metrics.registry.get_sample_value(
        "massar_outbox_failed_total", {"channel": "sms", "sender": "sink", "kind": "alert"}
    )
    assert failed == 1


async def test_the_console_shows_the_age_the_gauge_reads(rig: Rig) -> None:
    """One rule: the console's "oldest entry" is the outbox's own `ages_s`, the gauge's."""
    state = SimpleNamespace(outbox=rig.outbox)
    assert (await outbox_state(state))["oldest_s"] is None  # nothing waits
    await rig.redis.xadd(rig.outbox.keys.stream(Priority.BULK), {"m": "{}"}, id="1000-0")
    await rig.outbox.enqueue(message(1, kind=MessageKind.REPLY))
    shown = await outbox_state(state)
    ages = await rig.outbox.ages_s()
    assert shown["oldest_s"] == pytest.approx(ages["bulk"], abs=1.0)
    assert shown["oldest_s"] > ages["interactive"]
    assert shown["backlog"]["bulk"] == 1
