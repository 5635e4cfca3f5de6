"""Alerts survive a sender worker killed mid-batch: real `python -m gateway worker` processes
on the real Redis send what the consumer queued; the first is killed (SIGKILL) while sending,
two others finish, and the sink counts every key exactly once."""

from __future__ import annotations

import os
import signal
from collections import Counter
from pathlib import Path

import anyio
import pytest

from tests.alerts.conftest import ADMIN, World
from tests.conftest import REAL_REDIS, REDIS_TIMEOUT_S, REDIS_URL
from tests.outbox.test_outbox_crash import start_worker

pytestmark = [pytest.mark.anyio, pytest.mark.redis, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]


async def sink_keys(world: World) -> list[str]:
    rows = await world.redis.xrange(f"mg:{world.outbox.keys.tag}:sink")
    return [fields[b"key_h"].decode() for _, fields in rows]


async def wait(world: World, count: int, timeout_s: float = 90.0) -> None:
    with anyio.fail_after(timeout_s):
        while len(await sink_keys(world)) < count:  # noqa: ASYNC110 - other processes
            await anyio.sleep(0.05)


async def test_a_worker_killed_mid_batch_sends_no_alert_twice(world: World, tmp_path: Path) -> None:
    if not REAL_REDIS:
        pytest.skip("needs a Redis server: worker processes cannot share the in-process stand-in")
    consumer = world.consumer(batch=100)
    while await consumer.step():
        pass
    made = await world.http.post("/_sandbox/events/generate", json={"absences": 250}, headers=ADMIN)
    assert made.status_code == 200, made.text
    while await consumer.step():
        pass
    alerts = await world.queued()
    queued = {world.outbox.digest(a["key"], label="idem") for a in alerts}  # as the sink names them
    assert len(queued) == len(alerts) > 200
    env = {
        **os.environ,
        "GATEWAY_ENV": "test",
        "GATEWAY_REDIS_URL": REDIS_URL,
        "GATEWAY_REDIS_TIMEOUT_S": str(REDIS_TIMEOUT_S),
        "GATEWAY_DATABASE_URL": world.engine.url.render_as_string(hide_password=False),
        "GATEWAY_IDENTITY_KEY": world.key.decode(),
        "GATEWAY_OUTBOX_RATE_SMS": "300",
        "GATEWAY_OUTBOX_BURST_SMS": "10",
        "GATEWAY_OUTBOX_LEASE_S": "1",
        "GATEWAY_FOLLOWUP_BUDGET_S": "0.5",
        "GATEWAY_OUTBOX_RECLAIM_IDLE_S": "1.5",
        "GATEWAY_LOG_FORMAT": "json",
        "GATEWAY_LOG_FILE": str(tmp_path / "workers.log"),
    }
    first = start_worker(env, "first")
    try:
        await wait(world, 60)
    finally:
        first.send_signal(signal.SIGKILL)  # mid-batch: claims, sends and records in flight
        first.wait()
    assert len(await sink_keys(world)) < len(alerts)  # it died with work left
    others = [start_worker(env, "second"), start_worker(env, "third")]
    try:
        await wait(world, len(alerts))
        await anyio.sleep(0.5)  # room for a late duplicate, were one on its way
        sends = Counter(await sink_keys(world))
        assert set(sends) == queued  # nothing lost
        assert max(sends.values()) == 1, sends.most_common(3)  # nothing twice
    finally:
        for proc in others:
            proc.send_signal(signal.SIGTERM)
        codes = [proc.wait(timeout=30) for proc in others]
    assert codes == [0, 0]
