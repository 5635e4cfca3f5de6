"""Cache, single-flight, breaker and slots on Redis (the real server when it answers); their
Redis side alone, and the per-phone rate limit, are tested in tests/gateway/state/."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import anyio
import httpx
import pydantic
import pytest
from redis.asyncio import Redis

from backend_client import Deadline, MassarClient
from backend_client.errors import BackendUnavailable
from backend_client.models import GuardianLookup
from gateway.resilience import (
    BackendSlots,
    Breaker,
    BreakerConfig,
    BreakerOpen,
    BreakerState,
    Cache,
    ResilientBackend,
    Shed,
    SingleFlight,
    begin_turn,
)

pytestmark = [pytest.mark.anyio, pytest.mark.redis]

SECRET = b"test-secret"
PHONE = "+212600000001"
LOOKUP = json.loads(
    (Path(__file__).parents[1] / "backend_client/examples/guardian_lookup.json").read_text()
)
GUARDIAN = pydantic.TypeAdapter(GuardianLookup)


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def counting_backend(
    redis: Redis, prefix: str, *, status: int = 200, delay: float = 0.05, clock: Any = time.time
) -> tuple[ResilientBackend, dict[str, int]]:
    calls = {"n": 0}

    async def handler(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        await anyio.sleep(delay)
        if status != 200:
            return httpx.Response(status, json={"status": status, "code": "internal"})
        return httpx.Response(200, json=LOOKUP)

    client = MassarClient(
        "http://massar.test/api/v1",
        "t",
        http=httpx.AsyncClient(transport=httpx.MockTransport(handler)),
    )
    backend = ResilientBackend(
        client,
        cache=Cache(redis, key_secret=SECRET, prefix=prefix, clock=clock),
        singleflight=SingleFlight(redis, lease_s=2.0),
        breaker=Breaker(redis, prefix=prefix, config=BreakerConfig(failures=100)),
        slots=BackendSlots(300),
    )
    return backend, calls


# --- cache ------------------------------------------------------------------------------


async def test_cache_is_fresh_within_its_ttl_then_stale_with_its_date(
    redis: Redis, prefix: str
) -> None:
    clock = Clock(1_750_000_000.0)
    cache = Cache(redis, key_secret=SECRET, prefix=prefix, clock=clock)
    value = GUARDIAN.validate_python(LOOKUP)
    assert await cache.get("guardian", [PHONE], GUARDIAN) is None
    await cache.put("guardian", [PHONE], GUARDIAN, value)
    hit = await cache.get("guardian", [PHONE], GUARDIAN)
    assert hit is not None
    assert hit.fresh
    assert hit.value == value
    clock.now += 3601
    stale = await cache.get("guardian", [PHONE], GUARDIAN)
    assert stale is not None
    assert not stale.fresh
    assert stale.fetched_at.timestamp() == 1_750_000_000.0
    assert 0 < await redis.ttl(cache.key("guardian", [PHONE])) <= 24 * 3600


async def test_cache_keys_hold_no_phone_and_one_hash_tag(redis: Redis, prefix: str) -> None:
    cache = Cache(redis, key_secret=SECRET, prefix=prefix)
    key = cache.key("guardian", [PHONE])
    assert "600000001" not in key
    assert key.startswith(f"{prefix}:c:{{")
    assert key.endswith("}")
    assert cache.key("guardian", [PHONE]) != Cache(redis, key_secret=b"other").key(
        "guardian", [PHONE]
    )


async def test_stale_answer_served_with_its_date_when_the_backend_fails(
    redis: Redis, prefix: str
) -> None:
    clock = Clock(time.time() - 7200)  # fetched two hours ago: past the guardian TTL
    good, _ = counting_backend(redis, prefix, clock=clock)
    begin_turn()
    first = await good.lookup_guardian(PHONE, deadline=2.0)
    failing, calls = counting_backend(redis, prefix, status=503)
    begin_turn()
    again = await failing.lookup_guardian(PHONE, deadline=2.0)
    assert again == first
    assert calls["n"] >= 1  # the backend was asked first
    since = failing.stale_since()
    assert since is not None
    assert since.timestamp() == pytest.approx(clock.now)


async def test_no_stale_copy_means_the_failure_propagates(redis: Redis, prefix: str) -> None:
    failing, _ = counting_backend(redis, prefix, status=503)
    begin_turn()
    with pytest.raises(BackendUnavailable):
        await failing.lookup_guardian(PHONE, deadline=2.0)
    assert failing.stale_since() is None


# --- single-flight ---------------------------------------------------------------------------


async def test_1000_concurrent_cold_reads_on_two_workers_make_one_backend_call(
    redis: Redis, prefix: str
) -> None:
    """The issue's figure, within a USSD turn's 2 s: 500 reads on each of two workers."""
    workers = [counting_backend(redis, prefix, delay=0.2) for _ in range(2)]
    results: list[GuardianLookup] = []
    deadline = Deadline.after(2.0)

    async def read(backend: ResilientBackend) -> None:
        results.append(await backend.lookup_guardian(PHONE, deadline=deadline))

    async with anyio.create_task_group() as tg:
        for _ in range(500):
            for backend, _calls in workers:
                tg.start_soon(read, backend)
    assert sum(calls["n"] for _backend, calls in workers) == 1
    assert len(results) == 1000
    assert all(r == results[0] for r in results)


async def test_a_dead_winners_lease_expires_and_a_waiter_takes_over(
    redis: Redis, prefix: str
) -> None:
    joins: list[int] = []
    flight = SingleFlight(redis, lease_s=2.0, on_join=lambda: joins.append(1))
    key = f"{prefix}:c:{{dead}}"
    # A worker took the lease and was killed: nobody will free it or write the cache.
    await redis.set(f"{key}:sf", "dead-worker", px=200)
    store: dict[str, str] = {}
    fetches: list[int] = []

    async def fetch() -> str:
        fetches.append(1)
        store["v"] = "answer"
        return "answer"

    async def read() -> str | None:
        return store.get("v")

    assert await flight.run(key, fetch, read, Deadline.after(5)) == "answer"
    assert fetches == [1]
    assert joins == [1]
    assert await redis.get(f"{key}:sf") is None  # the new winner freed its lease


async def test_a_waiter_gives_up_at_its_own_deadline(redis: Redis, prefix: str) -> None:
    flight = SingleFlight(redis, lease_s=5.0)
    key = f"{prefix}:c:{{held}}"
    await redis.set(f"{key}:sf", "busy-worker", px=5000)

    async def never() -> str:
        raise AssertionError("the lease is held: this caller must not fetch")

    async def nothing() -> str | None:
        return None

    with pytest.raises(BackendUnavailable):
        await flight.run(key, never, nothing, Deadline.after(0.1))


# --- breaker ---------------------------------------------------------------------------------


def breaker(redis: Redis, prefix: str, **kw: Any) -> Breaker:
    config = BreakerConfig(failures=3, window_s=30, cooldown_s=0.3, probes=1)
    return Breaker(redis, prefix=prefix, config=config, **kw)


async def test_breaker_opens_after_n_failures_then_probes_then_closes(
    redis: Redis, prefix: str
) -> None:
    b = breaker(redis, prefix)
    for _ in range(2):
        await b.allow()
        assert await b.record(False) is BreakerState.CLOSED
    assert await b.record(False) is BreakerState.OPEN
    with pytest.raises(BreakerOpen):
        await b.allow()
    await anyio.sleep(0.35)  # the cool-down
    assert await b.state() is BreakerState.HALF_OPEN
    await b.allow()  # the one probe
    with pytest.raises(BreakerOpen):
        await b.allow()  # no second probe while the first runs
    assert await b.record(True) is BreakerState.CLOSED
    await b.allow()


async def test_a_failed_probe_opens_the_breaker_again(redis: Redis, prefix: str) -> None:
    b = breaker(redis, prefix)
    for _ in range(3):
        await b.record(False)
    await anyio.sleep(0.35)
    await b.allow()
    assert await b.record(False) is BreakerState.OPEN
    with pytest.raises(BreakerOpen):
        await b.allow()


async def test_workers_with_skewed_clocks_agree_on_the_breaker(redis: Redis, prefix: str) -> None:
    ahead = breaker(redis, prefix, clock=lambda: time.monotonic() + 3600)
    behind = breaker(redis, prefix, clock=lambda: time.monotonic() - 86400)
    for _ in range(3):
        await ahead.record(False)
    with pytest.raises(BreakerOpen):
        await behind.allow()
    with pytest.raises(BreakerOpen):
        await ahead.allow()
    await anyio.sleep(0.35)
    await behind.allow()  # the probe, whoever takes it
    with pytest.raises(BreakerOpen):
        await ahead.allow()
    await behind.record(True)
    assert await ahead.state() is BreakerState.CLOSED
    await ahead.allow()


async def test_the_breaker_stops_backend_calls(redis: Redis, prefix: str) -> None:
    backend, calls = counting_backend(redis, prefix, status=503, delay=0)
    backend.breaker = breaker(redis, prefix)
    for _ in range(3):
        with pytest.raises(BackendUnavailable):
            await backend.lookup_guardian(f"+2126000000{_:02d}", deadline=2.0)
    made = calls["n"]
    with pytest.raises(BreakerOpen):
        await backend.lookup_guardian("+212600000042", deadline=2.0)
    assert calls["n"] == made


# --- limits ----------------------------------------------------------------------------------


async def test_a_full_worker_sheds_instead_of_queueing() -> None:
    slots = BackendSlots(1)
    entered = anyio.Event()
    release = anyio.Event()

    async def hold() -> None:
        async with slots.slot(Deadline.after(5)):
            entered.set()
            await release.wait()

    async with anyio.create_task_group() as tg:
        tg.start_soon(hold)
        await entered.wait()
        with pytest.raises(Shed):
            async with slots.slot(Deadline.after(0.05)):
                pass
        release.set()
    async with slots.slot(Deadline.after(0.05)):
        assert slots.in_use == 1
