"""The Redis side of the backend's protections (`gateway.state.resilience`): cache entries and
their student indexes, single-flight leases, the breaker's record and the per-phone rate
limit, on the real Redis when it answers. The rules over them (freshness, joining a flight,
when a call may go) are tested in tests/resilience/."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import pytest
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from gateway.state.errors import StoreUnavailable
from gateway.state.keys import Keys
from gateway.state.resilience.breaker import BreakerRecord
from gateway.state.resilience.cache import CacheStore
from gateway.state.resilience.flights import FAILED, FlightLeases
from gateway.state.resilience.limits import RateLimiter

pytestmark = [pytest.mark.anyio, pytest.mark.redis]

PHONE = "+212600000001"
OPEN_MS = 60_000  # a cool-down no test waits out


@pytest.fixture
def keys(key_secret: bytes, prefix: str) -> Keys:
    return Keys(key_secret, prefix=prefix)


@pytest.fixture
async def down() -> AsyncIterator[Redis]:
    """A client of a Redis that does not answer (nothing listens there), tried once."""
    client = Redis(host="127.0.0.1", port=1, socket_connect_timeout=1, retry=Retry(NoBackoff(), 0))
    yield client
    await client.aclose()


async def test_a_student_change_drops_every_entry_noted_for_the_student(
    redis: Redis, keys: Keys
) -> None:
    store = CacheStore(redis, keys, stale_s=60)
    grades = keys.cache_entry("grades", ["S1", "2025-2026", "1", PHONE])
    absences = keys.cache_entry("absences", ["S1", PHONE])
    other = keys.cache_entry("grades", ["S2", "2025-2026", "1", PHONE])
    guardian = keys.cache_user(PHONE)
    await store.write(grades, '{"v": 1}', student_id="S1")
    await store.write(absences, '{"v": 2}', student_id="S1")
    await store.write(other, '{"v": 3}', student_id="S2")
    await store.write(guardian, '{"v": 4}')
    assert 0 < await redis.ttl(grades) <= 60
    assert 0 < await redis.ttl(keys.cache_student_index("S1")) <= 60
    assert sorted(await store.forget_students(["S1"])) == sorted([grades, absences])
    assert await store.read(grades) is None
    assert await store.read(absences) is None
    assert await store.read(other) == b'{"v": 3}'
    assert await store.read(guardian) == b'{"v": 4}'
    assert not await redis.exists(keys.cache_student_index("S1"))
    assert await store.forget_students(["S1"]) == []  # nothing left to drop


async def test_cache_keys_hold_no_phone_or_student_id(keys: Keys) -> None:
    for key in (
        keys.cache_user(PHONE),
        keys.cache_entry("grades", ["S123", PHONE]),
        keys.cache_student_index("S123"),
    ):
        assert "600000001" not in key
        assert "S123" not in key
        assert key.count("{") == 1  # one hash tag: one cluster slot per entry


async def test_a_lease_is_held_by_one_token_until_released(redis: Redis, keys: Keys) -> None:
    leases = FlightLeases(redis, lease_ms=5_000, failure_mark_ms=5_000)
    lease = Keys.flight_lease(keys.cache_entry("meta", []))
    assert await leases.acquire(lease, "a", over_failure=True)
    assert not await leases.acquire(lease, "b", over_failure=True)
    assert await leases.holder(lease) == b"a"
    await leases.release(lease, "b", failed=False)  # not b's: nothing happens
    assert await leases.holder(lease) == b"a"
    await leases.release(lease, "a", failed=False)
    assert await leases.holder(lease) is None
    assert await leases.acquire(lease, "b", over_failure=False)


async def test_a_failure_mark_stops_joiners_but_not_newcomers(redis: Redis, keys: Keys) -> None:
    leases = FlightLeases(redis, lease_ms=5_000, failure_mark_ms=5_000)
    lease = Keys.flight_lease(keys.cache_entry("meta", []))
    assert await leases.acquire(lease, "winner", over_failure=True)
    await leases.release(lease, "winner", failed=True)
    assert await leases.holder(lease) == FAILED
    assert 0 < await redis.pttl(lease) <= 5_000
    assert not await leases.acquire(lease, "joiner", over_failure=False)
    assert await leases.acquire(lease, "newcomer", over_failure=True)
    assert await leases.holder(lease) == b"newcomer"


async def test_releasing_a_lease_on_a_redis_that_does_not_answer_does_not_raise(
    down: Redis,
) -> None:
    leases = FlightLeases(down, lease_ms=1_000, failure_mark_ms=1_000)
    await leases.release("mg:c:{x}:sf", "token", failed=True)  # the lease expires alone
    with pytest.raises(StoreUnavailable):
        await leases.holder("mg:c:{x}:sf")


async def test_the_breaker_record_opens_at_the_threshold_and_resets(
    redis: Redis, prefix: str
) -> None:
    record = BreakerRecord(redis, Keys.breaker("massar", prefix=prefix))
    moves = {"failures": 2, "window_ms": 60_000, "ttl_ms": 120_000, "cooldown_ms": OPEN_MS}
    assert await record.allow(cooldown_ms=OPEN_MS, probes=1) == (True, 0, 0)
    assert await record.record(False, **moves) == 0
    assert await record.record(False, **moves) == 1  # the second failure opens it
    allowed, state, wait_ms = await record.allow(cooldown_ms=OPEN_MS, probes=1)
    assert (allowed, state) == (False, 1)
    assert 0 < wait_ms <= OPEN_MS
    assert await record.state(cooldown_ms=OPEN_MS) == 1
    assert 0 < await redis.pttl(record.key) <= 120_000
    await record.reset()
    assert await record.state(cooldown_ms=OPEN_MS) == 0


async def test_an_open_breaker_half_opens_after_its_cooldown_for_one_probe(
    redis: Redis, prefix: str
) -> None:
    record = BreakerRecord(redis, Keys.breaker("massar", prefix=prefix))
    moves = {"failures": 1, "window_ms": 60_000, "ttl_ms": 120_000, "cooldown_ms": 500}
    assert await record.record(False, **moves) == 1
    await anyio.sleep(0.6)  # past the cool-down, on Redis' clock
    assert await record.state(cooldown_ms=500) == 2
    assert (await record.allow(cooldown_ms=500, probes=1))[:2] == (True, 2)
    assert (await record.allow(cooldown_ms=500, probes=1))[:2] == (False, 2)  # one probe only
    assert await record.record(True, **moves) == 0  # the probe passed: closed


async def test_rate_limit_counts_a_sliding_window_per_phone(
    redis: Redis, key_secret: bytes, prefix: str
) -> None:
    limiter = RateLimiter(redis, key_secret=key_secret, limit=3, window_s=0.5, prefix=prefix)
    assert [await limiter.hit(PHONE) for _ in range(4)] == [True, True, True, False]
    assert await limiter.hit("+212600000002")
    assert "600000001" not in limiter.key(PHONE)
    await anyio.sleep(0.55)  # the window slid past the first three
    assert await limiter.hit(PHONE)


async def test_a_rate_limit_on_a_redis_that_does_not_answer_is_store_unavailable(
    down: Redis, key_secret: bytes
) -> None:
    limiter = RateLimiter(down, key_secret=key_secret)
    with pytest.raises(StoreUnavailable) as caught:
        await limiter.hit(PHONE)
    assert caught.value.part == "redis"
    assert "600000001" not in str(caught.value)
