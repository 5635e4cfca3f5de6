"""Sender processes killed mid-batch: nothing lost, nothing sent twice (counted at the sink).

Real `python -m gateway worker` processes on the real Redis: the in-process stand-in cannot
be shared between processes, so these tests skip (saying why) without a Redis server.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis as redis_sync
import sqlalchemy as sa

from gateway.state.migrate import upgrade
from gateway.state.schema import outbound_message
from tests.conftest import REAL_REDIS, REDIS_TIMEOUT_S, REDIS_URL

pytestmark = [pytest.mark.redis, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = 400


@pytest.fixture
def world(tmp_path: Path) -> Iterator[dict[str, str]]:
    if not REAL_REDIS:
        pytest.skip("needs a Redis server: worker processes cannot share the in-process stand-in")
    database = tmp_path / "gateway.db"
    upgrade(f"sqlite:///{database}")  # workers check the schema, never make it
    env = {
        **os.environ,
        "GATEWAY_ENV": "test",
        "GATEWAY_REDIS_URL": REDIS_URL,
        "GATEWAY_REDIS_TIMEOUT_S": str(REDIS_TIMEOUT_S),
        "GATEWAY_DATABASE_URL": f"sqlite:///{database}",
        "GATEWAY_IDENTITY_KEY": f"crash-test-{uuid.uuid4().hex}",
        "GATEWAY_OUTBOX_RATE_SMS": "300",
        "GATEWAY_OUTBOX_BURST_SMS": "10",
        "GATEWAY_OUTBOX_LEASE_S": "1",
        "GATEWAY_FOLLOWUP_BUDGET_S": "0.5",  # a lease must outlast composing a follow-up
        "GATEWAY_OUTBOX_RECLAIM_IDLE_S": "1.5",
        "GATEWAY_LOG_FORMAT": "json",
        "GATEWAY_LOG_FILE": str(tmp_path / "workers.log"),
    }
    yield env
    client = redis_sync.Redis.from_url(REDIS_URL)
    from gateway.outbox.queue import Outbox

    keys = Outbox(client, key_secret=env["GATEWAY_IDENTITY_KEY"].encode()).keys  # type: ignore[arg-type]
    for name in client.scan_iter(match=f"mg:{keys.tag}:*"):
        client.delete(name)


def start_worker(env: dict[str, str], name: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "gateway", "worker", "--consumer", name],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,  # its logs go to GATEWAY_LOG_FILE
    )


def enqueue_all(env: dict[str, str]) -> list[str]:
    import anyio

    from gateway.state.connections import open_redis
    from tests.outbox.conftest import message

    async def go() -> list[str]:
        from gateway.outbox.queue import Outbox

        client, _ = open_redis(REDIS_URL, timeout_s=REDIS_TIMEOUT_S)
        outbox = Outbox(client, key_secret=env["GATEWAY_IDENTITY_KEY"].encode())
        ids = []
        for n in range(MESSAGES):
            msg = message(n, to=f"+2126000{n:05d}")
            assert await outbox.enqueue(msg)
            ids.append(outbox.key_h(msg))
        await client.aclose()
        return ids

    return anyio.run(go)


def sink_keys(env: dict[str, str]) -> list[str]:
    from gateway.outbox.queue import Outbox

    client = redis_sync.Redis.from_url(REDIS_URL)
    tag = Outbox(client, key_secret=env["GATEWAY_IDENTITY_KEY"].encode()).keys.tag  # type: ignore[arg-type]
    rows = client.xrange(f"mg:{tag}:sink")
    return [fields[b"key_h"].decode() for _, fields in rows]


def wait(condition: object, what: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def records(env: dict[str, str]) -> Counter[str]:
    engine = sa.create_engine(env["GATEWAY_DATABASE_URL"])
    with engine.connect() as conn:
        rows = conn.execute(sa.select(outbound_message.c.status)).all()
    engine.dispose()
    return Counter(row.status for row in rows)


def test_a_worker_killed_mid_batch_loses_nothing_and_sends_nothing_twice(
    world: dict[str, str],
) -> None:
    keys = enqueue_all(world)
    first = start_worker(world, "first")
    try:
        wait(lambda: len(sink_keys(world)) >= 60, "the first worker's sends")
    finally:
        first.send_signal(signal.SIGKILL)  # mid-batch: claims, sends and records in flight
        first.wait()
    assert len(sink_keys(world)) < MESSAGES  # it really died with work left
    others = [start_worker(world, "second"), start_worker(world, "third")]
    try:
        wait(lambda: len(sink_keys(world)) >= MESSAGES, "every message")
        wait(lambda: records(world)["sent"] == MESSAGES, "every record")
        time.sleep(0.5)  # room for a late duplicate, were one on its way
        sends = Counter(sink_keys(world))
        assert set(sends) == set(keys)  # nothing lost
        assert max(sends.values()) == 1, sends.most_common(3)  # nothing twice
    finally:
        for proc in others:
            proc.send_signal(signal.SIGTERM)
        codes = [proc.wait(timeout=30) for proc in others]
    assert codes == [0, 0]  # SIGTERM: finish what is in hand, then stop cleanly
