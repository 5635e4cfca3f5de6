"""Graceful stop of `serve`'s own sender and alerts consumer (issue #25, item 6).

The real `python -m gateway serve` (sender and consumer in-process) against the real sandbox
backend, on the suite's Redis (a key of its own): the sandbox answers slowly (each feed read
takes half a second) and so does the sink (a second a message, four at a time), so the
SIGTERM lands while the gateway holds sends and, most likely, a batch of the feed. What it
holds is finished before it exits: nothing is left pending in the senders' group, the sends in
hand reach the sink after the signal, the alerts lease is given back. A second start sends the
rest, and the sink has every queued message exactly once (counted by idempotency key).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis as redis_sync
import sqlalchemy as sa

from gateway.outbox.model import Priority
from gateway.outbox.queue import Outbox
from gateway.state.schema import alert_cursor
from tests.conftest import REDIS_TIMEOUT_S
from tests.redis_servers import free_port

pytestmark = [pytest.mark.redis, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[3]
SANDBOX_ADMIN = {"Authorization": "Bearer sandbox-admin"}
ABSENCES = 60
WAIT_S = 120.0


def eventually(check: Callable[[], Any], what: str, timeout_s: float = WAIT_S) -> Any:
    """Poll the processes (not a timing assertion): `check`'s first truthy answer."""
    deadline = time.monotonic() + timeout_s
    while not (found := check()):
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.05)
    return found


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def records(log: Path) -> list[dict[str, Any]]:
    found = []
    for line in log.read_text().splitlines() if log.exists() else []:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            found.append(record)
    return found


def events(log: Path) -> list[str]:
    return [str(record.get("event")) for record in records(log)]


def queued(*logs: Path) -> int:
    """Messages the alerts consumer queued (new keys only), as its batches logged them."""
    return sum(
        int(r["queued"]) for log in logs for r in records(log) if r["event"] == "alerts_batch"
    )


class Outboxes:
    """What this test's outbox holds, read with a client of the test's own."""

    def __init__(self, url: str, key: str) -> None:
        self.client = redis_sync.Redis.from_url(url)
        keys = Outbox(self.client, key_secret=key.encode()).keys  # type: ignore[arg-type]
        self.keys = keys
        self.streams = [keys.stream(p) for p in Priority]
        self.lease = f"mg:{{alerts:{keys.ns}}}:lease"

    def sunk(self) -> list[str]:
        """The idempotency key (hashed) of every send the sink received, repeats included."""
        rows = self.client.xrange(f"mg:{self.keys.tag}:sink")
        return [fields[b"key_h"].decode() for _, fields in rows]

    def waiting(self) -> int:
        """Entries queued and not yet sent (an entry is deleted once acknowledged)."""
        return sum(int(self.client.xlen(stream)) for stream in self.streams) + int(
            self.client.zcard(self.keys.delayed)
        )

    def pending(self) -> int:
        """Entries read by a sender and not yet acknowledged."""
        total = 0
        for stream in self.streams:
            if self.client.exists(stream):
                total += int(self.client.xpending(stream, "senders")["pending"])
        return total

    def drop(self) -> None:
        for name in self.client.scan_iter(f"mg:{self.keys.tag}:*"):
            self.client.delete(name)
        self.client.delete(self.lease)
        self.client.close()


@pytest.fixture
def world(tmp_path: Path, redis_url: str | None, sandbox_database: str) -> Iterator[dict[str, Any]]:
    if redis_url is None:
        pytest.skip("needs a Redis server: two starts must share what the first left")
    sandbox_port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GATEWAY_", "SANDBOX_"))}
    sandbox = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "sandbox", "serve", "--port", str(sandbox_port)],
        env={**env, "SANDBOX_DATABASE_URL": sandbox_database},
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    key = f"graceful-{uuid.uuid4().hex}"
    outboxes = Outboxes(redis_url, key)
    try:
        sandbox_url = f"http://127.0.0.1:{sandbox_port}"
        eventually(lambda: answers(f"{sandbox_url}/api/v1/health"), "the sandbox")
        env.update(
            GATEWAY_REDIS_URL=redis_url,
            GATEWAY_REDIS_TIMEOUT_S=str(REDIS_TIMEOUT_S),
            GATEWAY_DATABASE_URL=f"sqlite:///{tmp_path}/gateway.db",
            GATEWAY_BACKEND_URL=f"{sandbox_url}/api/v1",
            GATEWAY_IDENTITY_KEY=key,
            GATEWAY_EMBEDDED_SENDER="true",
            GATEWAY_EMBEDDED_ALERTS="true",
            GATEWAY_QUIET_HOURS="none",
            GATEWAY_SINK_LATENCY_S="1.0",  # a slow provider: each send takes a second
            GATEWAY_OUTBOX_CONCURRENCY="4",
            GATEWAY_ALERTS_BATCH="10",
            GATEWAY_LOG_FORMAT="json",
        )
        yield {"env": env, "sandbox": sandbox_url, "outbox": outboxes, "tmp": tmp_path}
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=30)
        outboxes.drop()


def start(world: dict[str, Any], name: str, **extra: str) -> tuple[subprocess.Popen[bytes], Path]:
    log = world["tmp"] / f"{name}.log"
    proc = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "gateway", "serve", "--port", str(free_port())],
        env={**world["env"], "GATEWAY_LOG_FILE": str(log), **extra},
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    eventually(lambda: proc.poll() is not None or "outbox_worker_started" in events(log), name)
    assert proc.poll() is None, log.read_text()
    return proc, log


def cursor(world: dict[str, Any]) -> str | None:
    engine = sa.create_engine(world["env"]["GATEWAY_DATABASE_URL"])
    try:
        with engine.connect() as conn:
            return conn.execute(sa.select(alert_cursor.c.cursor)).scalar_one_or_none()
    finally:
        engine.dispose()


def head(world: dict[str, Any]) -> str:
    """The feed's newest cursor, as the consumer would read it."""
    reply = httpx.get(
        world["sandbox"] + "/api/v1/changes/head",
        headers={"Authorization": "Bearer sandbox-token"},
    )
    assert reply.status_code == 200, reply.text
    found: str = reply.json()["cursor"]
    return found


def sandbox(world: dict[str, Any], method: str, path: str, body: dict[str, Any]) -> None:
    reply = httpx.request(method, world["sandbox"] + path, json=body, headers=SANDBOX_ADMIN)
    assert reply.status_code == 200, reply.text


def test_sigterm_mid_batch_finishes_what_serve_holds_and_a_restart_sends_the_rest_once(
    world: dict[str, Any],
) -> None:
    outbox: Outboxes = world["outbox"]
    first, first_log = start(world, "first")
    try:
        eventually(lambda: cursor(world), "the alerts consumer at the feed's head")
        sandbox(world, "PUT", "/_sandbox/chaos", {"latency_median_ms": 500, "latency_p99_ms": 500})
        sandbox(world, "POST", "/_sandbox/events/generate", {"absences": ABSENCES})
        # Mid-batch: sends in hand (read, not acknowledged) and the feed still being read.
        eventually(lambda: len(outbox.sunk()) >= 4 and outbox.pending() > 0, "sends in hand")
        sunk_at_signal = len(outbox.sunk())
        first.send_signal(signal.SIGTERM)
        code = first.wait(timeout=WAIT_S)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert code in (0, -signal.SIGTERM), first_log.read_text()  # uvicorn re-raises the signal
    said = events(first_log)
    stopping = said.index("Shutting down")
    assert {"outbox_worker_stopped", "alerts_consumer_stopped"} <= set(said[stopping:])
    assert outbox.pending() == 0  # nothing read and left: what it held was finished
    assert len(outbox.sunk()) > sunk_at_signal  # the sends in hand went out after the signal
    assert not outbox.client.exists(outbox.lease)  # the consumer gave its lease back
    assert outbox.waiting() > 0  # it stopped with work left

    sandbox(world, "PUT", "/_sandbox/chaos", {"latency_median_ms": 0, "latency_p99_ms": 0})
    second, second_log = start(world, "second", GATEWAY_SINK_LATENCY_S="0")
    try:
        eventually(lambda: cursor(world) == head(world), "the whole feed read")
        eventually(lambda: outbox.waiting() == 0, "every queued message sent")
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=WAIT_S) in (0, -signal.SIGTERM)
    finally:
        if second.poll() is None:
            second.kill()
            second.wait()
    sends = Counter(outbox.sunk())
    assert len(sends) == queued(first_log, second_log)  # nothing lost
    assert len(sends) > ABSENCES // 2  # the absences made alerts (a phone each, or more)
    assert max(sends.values()) == 1, sends.most_common(3)  # nothing twice
    assert "Traceback" not in first_log.read_text() + second_log.read_text()
