"""The list of unmatched messages: counted, kept masked with no phone, trimmed by age, read
back by `python -m gateway unmatched`."""

from __future__ import annotations

import time
import uuid

import pytest
from redis.asyncio import Redis

from gateway.cli import main
from gateway.dialogs.model import Event
from gateway.resilience.metrics import Metrics
from gateway.state.errors import StoreUnavailable
from gateway.state.keys import UNMATCHED_LOG
from gateway.state.unmatched import UnmatchedLog
from gateway.unmatched import parse_duration
from tests.conftest import REAL_REDIS, REDIS_URL

pytestmark = [pytest.mark.anyio, pytest.mark.redis]


def event(text: str, lang: str = "fr") -> Event:
    return Event(kind="unmatched", data={"text": text, "state": "start", "lang": lang})


async def test_unmatched_events_are_counted_and_kept_without_a_phone(
    redis: Redis, prefix: str
) -> None:
    metrics = Metrics()
    log = UnmatchedLog(redis, retention_s=3600, metrics=metrics, key=f"{prefix}:unmatched")
    events = [event("absonse svp"), Event(kind="child_bound"), event("wach kayn", "ar")]
    await log.record(events, channel="sms")
    entries = await log.since(60)
    assert [(e.text, e.lang, e.channel, e.state) for e in entries] == [
        ("absonse svp", "fr", "sms", "start"),
        ("wach kayn", "ar", "sms", "start"),
    ]
    fields = await redis.xrange(f"{prefix}:unmatched")
    assert all(set(f) == {b"text", b"state", b"lang", b"channel"} for _, f in fields)
    counted = metrics.unmatched.labels(channel="sms", lang="fr")._value.get()
    assert counted == 1


async def test_entries_older_than_the_retention_are_trimmed(redis: Redis, prefix: str) -> None:
    key = f"{prefix}:unmatched"
    old_ms = int((time.time() - 7200) * 1000)
    await redis.xadd(key, {"text": "old"}, id=f"{old_ms}-0")
    await UnmatchedLog(redis, retention_s=3600, key=key).record([event("new")], channel="sms")
    texts = [fields[b"text"] for _, fields in await redis.xrange(key)]
    assert texts == [b"new"]


async def test_since_reads_only_the_window(redis: Redis, prefix: str) -> None:
    log = UnmatchedLog(redis, retention_s=30 * 86400, key=f"{prefix}:unmatched")
    await log.record([event("one")], channel="ussd")
    assert [e.text for e in await log.since(3600)] == ["one"]
    assert await log.since(3600, now=time.time() + 7200) == []


async def test_a_redis_failure_loses_the_entry_not_the_turn() -> None:
    broken = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    log = UnmatchedLog(broken, retention_s=60)
    try:
        await log.record([event("x")], channel="sms")  # no exception
        with pytest.raises(StoreUnavailable):
            await log.since(60)
    finally:
        await broken.aclose()


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("7d", 604800), ("12h", 43200), ("30m", 1800), ("2w", 1209600), ("3", 259200)],
)
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


def test_a_bad_duration_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["unmatched", "--since", "soon"]) == 2
    assert "not a duration" in capsys.readouterr().err


def test_the_command_explains_the_in_process_stand_in(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("GATEWAY_REDIS_URL", raising=False)
    assert main(["unmatched", "--since", "7d"]) == 1
    assert "GATEWAY_REDIS_URL" in capsys.readouterr().err


@pytest.mark.skipif(not REAL_REDIS, reason="the command reads a Redis server, not the stand-in")
async def test_the_command_lists_and_groups_what_was_kept(
    redis: Redis, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    nonce = "zq" + uuid.uuid4().hex[:8].translate(str.maketrans("0123456789", "ghijklmnop"))
    log = UnmatchedLog(redis, retention_s=86400)
    assert log.key == UNMATCHED_LOG
    await log.record([event(f"{nonce} svp"), event(f"{nonce} svp")], channel="sms")
    monkeypatch.setenv("GATEWAY_REDIS_URL", REDIS_URL)
    try:
        import anyio.to_thread

        assert await anyio.to_thread.run_sync(main, ["unmatched", "--since", "1h"]) == 0
        listed = capsys.readouterr().out
        assert listed.count(f"sms   fr  start      {nonce} svp") == 2
        assert await anyio.to_thread.run_sync(main, ["unmatched", "--since", "1h", "--top"]) == 0
        assert f"    2  fr  {nonce} svp" in capsys.readouterr().out
    finally:
        ids = [
            i
            for i, f in await redis.xrange(UNMATCHED_LOG, min="-", max="+")
            if nonce.encode() in f[b"text"]
        ]
        if ids:
            await redis.xdel(UNMATCHED_LOG, *ids)
