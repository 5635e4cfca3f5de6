"""Sender workers: each message once, retries bounded, failures classified and recorded,
malformed entries set aside, a dead worker's entries reclaimed, follow-ups composed late."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import anyio
import pytest

from gateway.dialogs.model import Option
from gateway.outbox.model import MessageKind, OutMessage, Receipt, SendError
from gateway.outbox.worker import OutboxWorker
from gateway.state.errors import StoreUnavailable
from gateway.state.outbox.priority import Priority
from gateway.state.outbox.streams import GROUP
from tests.outbox.conftest import Rig, message

pytestmark = [pytest.mark.anyio, pytest.mark.redis]


@asynccontextmanager
async def running(*workers: OutboxWorker) -> AsyncIterator[None]:
    stop = anyio.Event()
    async with anyio.create_task_group() as tg:
        for worker in workers:
            tg.start_soon(partial(worker.run, stop=stop))
        yield
        stop.set()


async def until(check: Callable[[], Awaitable[bool]], timeout_s: float = 20.0) -> None:
    """Wait for `check` to hold; a bound that fails, never a measure of speed."""
    with anyio.fail_after(timeout_s):
        while not await check():  # noqa: ASYNC110 - polling a state outside this process
            await anyio.sleep(0.02)


def _metric(rig: Rig, name: str) -> float:
    for line in rig.metrics.render().decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not exported")


async def settled(rig: Rig) -> bool:
    """Nothing waiting, delayed or pending in any stream."""
    await rig.outbox.ensure_group()
    backlog = await rig.outbox.backlog()
    pending = [await rig.redis.xpending(s, GROUP) for s in rig.outbox.streams]
    return not any(backlog.values()) and all(p["pending"] == 0 for p in pending)


async def test_each_message_is_sent_once_and_recorded_sent(rig: Rig) -> None:
    msgs = [message(n) for n in range(30)]
    msgs.append(
        message(99, text="غياب غير مبرر: 3", options=(Option(key="0", id="menu", label="القائمة"),))
    )
    for msg in msgs:
        assert await rig.outbox.enqueue(msg) is not None
    async with running(rig.worker()):
        await until(lambda: _count(rig, len(msgs)))
        await until(lambda: settled(rig))
    sent = await rig.sent()
    assert sorted(row["id"] for row in sent) == sorted(m.id for m in msgs)
    arabic = next(row for row in sent if row["id"] == msgs[-1].id)
    assert arabic["text"] == "غياب غير مبرر: 3\n0. القائمة"  # options as numbered lines
    record = await rig.records.get(msgs[0].id)
    assert record is not None
    assert record["status"] == "sent"
    assert record["provider_id"].startswith("sink-")
    assert record["attempts"] == 1
    assert "600000001" not in record["to_h"]
    assert record["to_masked"] == "+212*******01"


async def _count(rig: Rig, n: int) -> bool:
    return len(await rig.sent()) >= n


async def test_the_same_key_enqueued_twice_is_sent_once(rig: Rig) -> None:
    msg = message()
    assert await rig.outbox.enqueue(msg) is not None
    assert await rig.outbox.enqueue(msg) is None
    async with running(rig.worker()):
        await until(lambda: settled(rig))
    assert len(await rig.sent()) == 1


async def test_transient_errors_are_retried_until_sent(rig: Rig) -> None:
    msg = message()
    rig.failing.plan[msg.id] = [
        SendError("http:429", retryable=True, retry_after_s=0.05),
        SendError("http:503", retryable=True),
    ]
    await rig.outbox.enqueue(msg)
    async with running(rig.worker()):
        await until(lambda: _count(rig, 1))
        await until(lambda: settled(rig))
    assert rig.failing.calls[msg.id] == 3
    record = await rig.records.get(msg.id)
    assert record is not None
    assert (record["status"], record["attempts"]) == ("sent", 3)


async def test_a_permanent_error_is_recorded_failed_and_never_retried(rig: Rig) -> None:
    msg, other = message(1), message(2)
    rig.failing.plan[msg.id] = [SendError("twilio:21211", retryable=False)]
    await rig.outbox.enqueue(msg)
    await rig.outbox.enqueue(other)
    async with running(rig.worker()):
        await until(lambda: _count(rig, 1))
        await until(lambda: settled(rig))
    assert rig.failing.calls[msg.id] == 1
    record = await rig.records.get(msg.id)
    assert record is not None
    assert (record["status"], record["error"]) == ("failed", "twilio:21211")
    assert [row["id"] for row in await rig.sent()] == [other.id]


async def test_transient_errors_give_up_after_max_attempts(rig: Rig) -> None:
    msg = message()
    rig.failing.plan[msg.id] = [SendError("http:500", retryable=True) for _ in range(10)]
    await rig.outbox.enqueue(msg)
    async with running(rig.worker(max_attempts=4)):
        await until(lambda: settled(rig))
        await until(lambda: _status(rig, msg, "failed"))
    assert rig.failing.calls[msg.id] == 4
    assert await rig.sent() == []


async def test_a_sender_that_crashes_is_retried_then_failed_and_the_worker_goes_on(
    rig: Rig,
) -> None:
    bad, good = message(1), message(2)

    def crash(msg: OutMessage) -> SendError | None:
        if msg.id == bad.id:
            raise RuntimeError("a bug in a sender")
        return None

    rig.sink._fail = crash  # the sink's own test seam
    await rig.outbox.enqueue(bad)
    await rig.outbox.enqueue(good)
    async with running(rig.worker(max_attempts=3)):
        await until(lambda: _status(rig, bad, "failed"))
        await until(lambda: settled(rig))
    record = await rig.records.get(bad.id)
    assert record is not None
    assert (record["error"], record["attempts"]) == ("error:RuntimeError", 3)
    assert [row["id"] for row in await rig.sent()] == [good.id]


async def _status(rig: Rig, msg: OutMessage, status: str) -> bool:
    record = await rig.records.get(msg.id)
    return record is not None and record["status"] == status


async def test_a_malformed_entry_is_set_aside_and_the_worker_goes_on(rig: Rig) -> None:
    stream = rig.outbox.keys.stream(Priority.BULK)
    await rig.outbox.ensure_group()
    await rig.redis.xadd(stream, {"m": "{not json"})
    await rig.redis.xadd(stream, {"other": "field"})
    good = message()
    await rig.outbox.enqueue(good)
    async with running(rig.worker()):
        await until(lambda: _count(rig, 1))
        await until(lambda: settled(rig))
    dead = await rig.redis.xrange(rig.outbox.keys.dead)
    assert len(dead) == 2
    assert {fields[b"stream"] for _, fields in dead} == {stream.encode()}
    assert "massar_outbox_dead_total 2.0" in rig.metrics.render().decode()


class SlowFirstComposer:
    """Composing takes `first_s` the first time (past the lease), then no time."""

    def __init__(self, first_s: float) -> None:
        self.first_s = first_s
        self.tries = 0

    async def compose(self, msg: OutMessage, job: Mapping[str, Any]) -> OutMessage | None:
        self.tries += 1
        if self.tries == 1:
            await anyio.sleep(self.first_s)
        return replace(msg, text="answer")


async def test_a_send_whose_lease_ran_out_is_left_to_the_worker_that_took_it_over(
    rig: Rig,
) -> None:
    followup = message(kind=MessageKind.FOLLOWUP, text="")
    await rig.outbox.enqueue(followup, job={"text": "1"})
    composer = SlowFirstComposer(first_s=0.6)
    worker = rig.worker(composer=composer, lease_ms=300, reclaim_idle_ms=400)
    async with running(worker):
        await until(lambda: _count(rig, 1))
        await until(lambda: settled(rig))
        await anyio.sleep(0.8)  # the slow first composition ends now: it must not send
    assert composer.tries >= 2  # taken over while the first was still composing
    assert len(await rig.sent()) == 1


class Provider:
    """A provider as real ones are: it takes every call, and the outbox learns of it only
    from the answer (unlike the sink, which marks the key itself)."""

    name = "provider"

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, msg: OutMessage) -> Receipt:
        self.sent.append(msg.id)
        return Receipt(provider_id=f"P{len(self.sent)}")

    async def aclose(self) -> None:
        return None


async def test_a_redis_blip_after_a_send_does_not_send_it_again(rig: Rig) -> None:
    msg = message()
    await rig.outbox.enqueue(msg)
    provider = Provider()
    finish = rig.outbox.finish
    failures = [StoreUnavailable("blip")]

    async def flaky_finish(*args: Any, **kwargs: Any) -> None:
        if failures:
            raise failures.pop()
        await finish(*args, **kwargs)

    rig.outbox.finish = flaky_finish  # type: ignore[method-assign]
    async with running(rig.worker(sender=provider, lease_ms=200, reclaim_idle_ms=300)):
        await until(lambda: _status(rig, msg, "sent"))
        await until(lambda: settled(rig))
        await anyio.sleep(0.6)  # past a takeover, were the message still pending
    assert not failures
    assert provider.sent == [msg.id]


async def test_streams_that_vanish_under_a_running_worker_are_made_again(rig: Rig) -> None:
    async with running(rig.worker(block_ms=50)):
        await rig.outbox.enqueue(message(1))
        await until(lambda: _count(rig, 1))
        # Redis restarted without persistence: the streams and their group are gone.
        await rig.redis.delete(*rig.outbox.streams)
        await anyio.sleep(0.2)
        await rig.outbox.enqueue(message(2))
        await until(lambda: _count(rig, 2))


async def test_a_dead_workers_entries_are_reclaimed_and_sent_once(rig: Rig) -> None:
    msgs = [message(n) for n in range(5)]
    for msg in msgs:
        await rig.outbox.enqueue(msg)
    await rig.outbox.ensure_group()
    # A worker read them and died before sending anything: they sit in its pending list.
    taken = await rig.redis.xreadgroup(
        GROUP, "dead-worker", {rig.outbox.keys.stream(Priority.BULK): ">"}, count=10
    )
    assert len(taken[0][1]) == 5
    async with running(rig.worker(reclaim_idle_ms=200)):
        await until(lambda: settled(rig))
    assert sorted(row["id"] for row in await rig.sent()) == sorted(m.id for m in msgs)
    # At least the dead worker's five; on a saturated host the live worker may take back one of
    # its own that sat past the 200 ms window, which the exactly-once check above covers.
    assert _metric(rig, "massar_outbox_reclaimed_total") >= 5


async def test_a_reclaimed_entry_already_sent_is_recorded_not_sent_again(rig: Rig) -> None:
    msg = message()
    await rig.outbox.enqueue(msg)
    await rig.outbox.ensure_group()
    # A worker sent it and died before acknowledging it.
    taken = await rig.redis.xreadgroup(
        GROUP, "dead-worker", {rig.outbox.keys.stream(Priority.BULK): ">"}, count=1
    )
    stream, rows = taken[0]
    from gateway.outbox.entries import decode

    entry = decode(stream.decode(), rows[0][0].decode(), rows[0][1])
    claim = await rig.outbox.claim(entry, lease_ms=100)
    receipt = await rig.sink.send(entry.message)
    await rig.outbox.finish(entry, claim, receipt.provider_id)
    async with running(rig.worker(reclaim_idle_ms=200)):
        await until(lambda: settled(rig))
        await until(lambda: _status(rig, msg, "sent"))
    assert len(await rig.sent()) == 1
    record = await rig.records.get(msg.id)
    assert record is not None
    assert record["provider_id"] == receipt.provider_id


async def test_interactive_replies_overtake_a_queue_of_bulk_messages(rig: Rig) -> None:
    bulk = [message(n) for n in range(60)]
    for msg in bulk:
        await rig.outbox.enqueue(msg)
    urgent = message(1000, kind=MessageKind.REPLY)
    async with running(rig.worker(rate=40.0, burst=1, concurrency=4)):
        await until(lambda: _count(rig, 8))
        before = len(await rig.sent())
        await rig.outbox.enqueue(urgent)
        await until(lambda: _has(rig, urgent))
    order = [row["id"] for row in await rig.sent()]
    overtaken_by = order.index(urgent.id) - before
    # Only sends already holding a slot may go first (concurrency 4), never the rest.
    assert overtaken_by <= 4, overtaken_by
    assert len(bulk) - (order.index(urgent.id) - 1) > 40


async def _has(rig: Rig, msg: OutMessage) -> bool:
    return any(row["id"] == msg.id for row in await rig.sent())


async def test_two_workers_share_one_pace(rig: Rig) -> None:
    msgs = [message(n) for n in range(36)]
    for msg in msgs:
        await rig.outbox.enqueue(msg)
    rate, burst = 30.0, 3
    workers = [rig.worker(rate=rate, burst=burst, concurrency=8) for _ in range(2)]
    seconds, micros = await rig.redis.time()
    started_ms = seconds * 1000 + micros // 1000
    async with running(*workers):
        await until(lambda: _count(rig, len(msgs)))
    # The sink's stream ids are Redis' clock in ms, the bucket's clock too. One bucket for both
    # workers cannot grant the last token before (messages - burst) / rate seconds have passed;
    # a bucket per worker would take half that. Slowness only lengthens the span (a window count
    # would not do: sends delayed after their tokens bunch up on a saturated host).
    times = sorted(
        int(row_id.split(b"-")[0]) for row_id, _ in await rig.redis.xrange(rig.sink.stream.key)
    )
    assert len(times) == len(msgs)
    assert times[-1] - started_ms >= (len(msgs) - burst) / rate * 1000 - 50


class FakeComposer:
    """The backend is down for the first `down` tries, then answers."""

    def __init__(self, down: int) -> None:
        self.down = down
        self.tries = 0

    async def compose(self, msg: OutMessage, job: Mapping[str, Any]) -> OutMessage | None:
        self.tries += 1
        if self.tries <= self.down:
            return None
        return replace(msg, text=f"answer to {job['text']}")


async def test_a_follow_up_waits_for_the_backend_then_is_sent(rig: Rig) -> None:
    followup = message(kind=MessageKind.FOLLOWUP, text="")
    assert await rig.outbox.enqueue(followup, job={"text": "2"}, guard="q", guard_ttl_s=60)
    # The same question asked again while the first waits: no second follow-up.
    assert await rig.outbox.enqueue(message(), job={"text": "2"}, guard="q", guard_ttl_s=60) is None
    composer = FakeComposer(down=3)
    async with running(
        rig.worker(composer=composer, followup_retry_base_s=0.01, followup_retry_cap_s=0.05)
    ):
        await until(lambda: _count(rig, 1))
        await until(lambda: settled(rig))
    assert composer.tries == 4
    assert [row["text"] for row in await rig.sent()] == ["answer to 2"]
    record = await rig.records.get(followup.id)
    assert record is not None
    assert (record["status"], record["text"], record["kind"]) == ("sent", "answer to 2", "followup")
    # Answered: the question may be asked (and followed up) again.
    assert await rig.outbox.enqueue(message(), job={"text": "2"}, guard="q", guard_ttl_s=60)


async def test_a_follow_up_past_its_max_age_is_given_up_with_nothing_sent(rig: Rig) -> None:
    old = datetime.now(UTC) - timedelta(hours=3)
    followup = message(kind=MessageKind.FOLLOWUP, text="", created_at=old)
    await rig.outbox.enqueue(followup, job={"text": "1"}, guard="q2", guard_ttl_s=60)
    composer = FakeComposer(down=0)
    async with running(rig.worker(composer=composer, followup_max_age_s=7200)):
        await until(lambda: _status(rig, followup, "failed"))
        await until(lambda: settled(rig))
    assert composer.tries == 0
    assert await rig.sent() == []
    record = await rig.records.get(followup.id)
    assert record is not None
    assert record["error"] == "expired"
    assert await rig.outbox.enqueue(message(), job={"text": "1"}, guard="q2", guard_ttl_s=60)
