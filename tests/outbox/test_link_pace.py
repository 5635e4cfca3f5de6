"""Each operator link keeps its own pace (GATEWAY_OUTBOX_RATE_SMS_LINKS), beside the
provider's: a bucket per Kannel smsc-id, in SMS parts, on an injected clock so the tokens
granted in each window are counted, never timed."""

from __future__ import annotations

from dataclasses import replace

import anyio
import httpx
import pytest
from pydantic import ValidationError

from gateway.outbox.model import MessageKind, OutChannel
from gateway.outbox.paces import channel_pacers, link_pacers
from gateway.outbox.senders import build_senders
from gateway.outbox.throttle import LinkPacers
from gateway.settings import Settings
from gateway.state.outbox.bucket import TokenBucket
from tests.outbox.conftest import Rig, message

pytestmark = pytest.mark.anyio

IAM_PHONE, INWI_PHONE, OTHER_PHONE = "+212661000001", "+212700000001", "+212550000001"


def settings(**overrides: object) -> Settings:
    values: dict[str, object] = {
        "env": "test",
        "sms_sender": "kannel",
        "kannel_sms_from": "2020",
        "kannel_routes": "+21266:IAM,+21270:INWI",
        "outbox_rate_sms_links": "IAM=20,INWI=5",
        **overrides,
    }
    return Settings(**values)  # type: ignore[arg-type]


async def links_of(rig: Rig, clock: list[int], http: httpx.AsyncClient) -> LinkPacers:
    config = settings()
    senders = build_senders(config, redis=rig.redis, outbox=rig.outbox, http=http)
    links = link_pacers(config, rig.redis, rig.outbox.keys, senders, clock=lambda: clock[0])
    assert links is not None
    return links


async def left(links: LinkPacers, link: str) -> int:
    """Every token the link's bucket grants now (and takes them)."""
    taken, _ = await links.pacers[link].bucket.take(1000)
    return taken


async def test_two_links_pace_independently(rig: Rig) -> None:
    clock = [1_000_000]
    async with httpx.AsyncClient() as http:
        links = await links_of(rig, clock, http)
        with anyio.fail_after(30):  # generous: every token below is there already
            for n in range(20):
                assert await links.acquire(message(n, to=IAM_PHONE)) == "IAM"
            assert await left(links, "IAM") == 0  # IAM's second is spent...
            for n in range(5):  # ...INWI's is whole
                assert await links.acquire(message(n, to=INWI_PHONE)) == "INWI"
            assert await left(links, "INWI") == 0
            clock[0] += 1000  # one second later: each link's own pace again
            assert (await left(links, "IAM"), await left(links, "INWI")) == (20, 5)
            clock[0] += 250
            assert (await left(links, "IAM"), await left(links, "INWI")) == (5, 1)
            clock[0] += 10_000  # a quiet spell fills a bucket to one second's burst, no more
            assert (await left(links, "IAM"), await left(links, "INWI")) == (20, 5)


async def test_a_link_counts_each_part_and_a_reply_keeps_its_own_link(rig: Rig) -> None:
    clock = [5_000_000]
    async with httpx.AsyncClient() as http:
        links = await links_of(rig, clock, http)
        long_arabic = "غياب " * 40  # UCS-2: 200 characters are 3 parts of 67
        with anyio.fail_after(30):
            assert await links.acquire(message(1, to=IAM_PHONE, text=long_arabic)) == "IAM"
            assert await left(links, "IAM") == 17
            # A reply leaves on the link its SMS came in on, whatever the number's prefix.
            reply = replace(message(2, to=IAM_PHONE, kind=MessageKind.REPLY), route="INWI")
            assert await links.acquire(reply) == "INWI"
            assert await links.acquire(message(3, to=OTHER_PHONE)) is None  # no pace of its own
            assert await left(links, "INWI") == 4  # one part of INWI's, none of the others


async def test_a_link_waits_for_its_own_tokens_only(rig: Rig) -> None:
    clock = [9_000_000]
    async with httpx.AsyncClient() as http:
        links = await links_of(rig, clock, http)
        assert await left(links, "INWI") == 5
        done: list[str | None] = []

        async def send_on_inwi() -> None:
            done.append(await links.acquire(message(1, to=INWI_PHONE)))

        async with anyio.create_task_group() as tg:
            tg.start_soon(send_on_inwi)
            with anyio.fail_after(30):
                for n in range(20):  # IAM goes on while INWI's send waits
                    assert await links.acquire(message(n, to=IAM_PHONE)) == "IAM"
                assert done == []  # INWI's clock has not moved: its send still waits
                clock[0] += 200  # one INWI token (5/s)
                while not done:  # noqa: ASYNC110 - the waiting task polls the bucket
                    await anyio.sleep(0.01)
        assert done == ["INWI"]


async def test_without_kannel_or_link_paces_only_the_provider_paces(rig: Rig) -> None:
    async with httpx.AsyncClient() as http:
        sink = settings(sms_sender="sink")
        senders = build_senders(sink, redis=rig.redis, outbox=rig.outbox, http=http)
        assert link_pacers(sink, rig.redis, rig.outbox.keys, senders) is None
        bare = settings(outbox_rate_sms_links="")
        senders = build_senders(bare, redis=rig.redis, outbox=rig.outbox, http=http)
        assert link_pacers(bare, rig.redis, rig.outbox.keys, senders) is None
    pacers = channel_pacers(bare, rig.redis, rig.outbox.keys)
    assert pacers[OutChannel.SMS].bucket.key == rig.outbox.keys.bucket("sms")  # unchanged


@pytest.mark.parametrize("value", ["IAM", "IAM=0", "IAM=-1", "I AM=20", "IAM=fast", "=20"])
def test_a_malformed_link_pace_is_refused(value: str) -> None:
    with pytest.raises(ValidationError):
        settings(outbox_rate_sms_links=value)


def test_link_paces_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings(env="test").outbox_rate_sms_links == {  # type: ignore[call-arg]
        "IAM": 20.0,  # the deploy kit's links (deploy/kannel/kannel.conf)
        "ORANGE": 20.0,
        "INWI": 20.0,
    }
    monkeypatch.setenv("GATEWAY_OUTBOX_RATE_SMS_LINKS", "IAM:20,ORANGE:20")  # as the template
    assert Settings(env="test").outbox_rate_sms_links == {"IAM": 20.0, "ORANGE": 20.0}  # type: ignore[call-arg]
    monkeypatch.setenv("GATEWAY_OUTBOX_RATE_SMS_LINKS", "")
    assert Settings(env="test").outbox_rate_sms_links == {}  # type: ignore[call-arg]
    monkeypatch.setenv("GATEWAY_OUTBOX_RATE_SMS_LINKS", "iam=20, orange=20,inwi=12.5")
    assert Settings(env="test").outbox_rate_sms_links == {  # type: ignore[call-arg]
        "iam": 20.0,
        "orange": 20.0,
        "inwi": 12.5,
    }


async def test_a_worker_holds_a_links_sends_to_its_pace_and_the_others_go(rig: Rig) -> None:
    clock = [2_000_000]
    bucket = TokenBucket(
        rig.redis,
        rig.outbox.keys.link_bucket("sms", "IAM"),
        rate=3,
        burst=3,
        clock=lambda: clock[0],
    )
    links = LinkPacers(
        {"IAM": bucket},
        link_of=lambda msg: "IAM" if msg.to.startswith("+21266") else None,
        parts_of=lambda msg: 1,
    )
    iam = [message(n, to=IAM_PHONE) for n in range(5)]
    other = [message(n, to=OTHER_PHONE) for n in range(5)]
    await rig.outbox.enqueue_many(iam + other)
    worker = rig.worker(concurrency=16)
    worker.sending.links = links
    stop = anyio.Event()

    async def sent_to(phone: str) -> int:
        return sum(1 for s in await rig.sent() if s["to"] == phone)

    async with anyio.create_task_group() as tg:
        tg.start_soon(lambda: worker.run(stop=stop))
        with anyio.fail_after(60):
            while len(await rig.sent()) < 8:  # noqa: ASYNC110 - the worker's task
                await anyio.sleep(0.02)
            # IAM's clock stands still: its burst went, its other two wait; the rest went.
            assert (await sent_to(IAM_PHONE), await sent_to(OTHER_PHONE)) == (3, 5)
            clock[0] += 1000
            while len(await rig.sent()) < 10:  # noqa: ASYNC110 - the worker's task
                await anyio.sleep(0.02)
        stop.set()
    assert (await sent_to(IAM_PHONE), await sent_to(OTHER_PHONE)) == (5, 5)
