"""RedisLockout follows DOMAIN §3, with time moved by a fake clock instead of sleeps."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import structlog
from redis.asyncio import Redis

from gateway.dialogs.ports import Lockout
from gateway.state.keys import Keys
from gateway.state.lockout import RedisLockout

pytestmark = [pytest.mark.anyio, pytest.mark.redis]

PHONE = "+212612345678"
CODE = "Z990000123"
MINUTE = 60.0
HOUR = 3600.0


class Clock:
    """Seconds since the epoch that move only when told (the tests' stand-in for time.time)."""

    def __init__(self) -> None:
        self.now = 1_750_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def make(redis: Redis, prefix: str, key_secret: bytes, clock: Clock) -> Callable[..., RedisLockout]:
    def build(**thresholds: int) -> RedisLockout:
        return RedisLockout(redis, key_secret=key_secret, clock=clock, prefix=prefix, **thresholds)

    return build


@pytest.fixture
def lockout(make: Callable[..., RedisLockout]) -> Lockout:
    return make()


async def fail(lockout: Lockout, times: int, phone: str = PHONE, code: str = CODE) -> list[bool]:
    return [await lockout.record_failure(phone, code) for _ in range(times)]


async def test_two_failures_do_not_lock(lockout: Lockout) -> None:
    assert await fail(lockout, 2) == [False, False]
    assert not await lockout.is_locked(PHONE)
    assert not await lockout.is_locked(PHONE, CODE)


async def test_third_failure_starts_a_cooloff_that_ends_after_15_minutes(
    lockout: Lockout, clock: Clock
) -> None:
    assert await fail(lockout, 3) == [False, False, True]
    assert await lockout.is_locked(PHONE)
    clock.advance(15 * MINUTE - 1)
    assert await lockout.is_locked(PHONE)
    clock.advance(1)
    assert not await lockout.is_locked(PHONE)
    assert not await lockout.is_locked("+212612345679")


async def test_each_failure_after_the_third_restarts_the_cooloff(
    lockout: Lockout, clock: Clock
) -> None:
    await fail(lockout, 3)
    clock.advance(15 * MINUTE)
    assert await fail(lockout, 1) == [True]
    clock.advance(15 * MINUTE - 1)
    assert await lockout.is_locked(PHONE)
    clock.advance(1)
    assert not await lockout.is_locked(PHONE)


async def test_fifth_failure_in_a_day_locks_the_phone_for_24_hours(
    lockout: Lockout, clock: Clock
) -> None:
    await fail(lockout, 3)
    clock.advance(16 * MINUTE)
    await fail(lockout, 1)
    clock.advance(16 * MINUTE)
    assert await fail(lockout, 1) == [True]
    clock.advance(24 * HOUR - 1)
    assert await lockout.is_locked(PHONE)
    clock.advance(1)
    assert not await lockout.is_locked(PHONE)


async def test_failures_older_than_24_hours_stop_counting(lockout: Lockout, clock: Clock) -> None:
    await fail(lockout, 2)
    clock.advance(24 * HOUR)
    assert await fail(lockout, 2) == [False, False]
    clock.advance(23 * HOUR)
    assert await fail(lockout, 1) == [True]  # the last 24 h hold 3 failures


async def test_ten_failures_on_one_code_lock_it_for_every_phone(
    lockout: Lockout, clock: Clock
) -> None:
    phones = [f"+2126000000{i:02d}" for i in range(10)]
    with structlog.testing.capture_logs() as logs:
        for phone in phones[:9]:
            assert await lockout.record_failure(phone, CODE) is False
        assert not await lockout.is_locked("+212700000001", CODE)
        assert await lockout.record_failure(phones[9], CODE) is True
    fresh = "+212700000001"
    assert await lockout.is_locked(fresh, CODE)
    assert await lockout.is_locked(fresh, CODE.lower())
    assert not await lockout.is_locked(fresh)
    assert not await lockout.is_locked(fresh, "Z990000124")
    alerts = [line for line in logs if line["event"] == "verification_code_locked"]
    assert len(alerts) == 1
    assert alerts[0]["log_level"] == "warning"
    for line in logs:
        text = repr(line)
        assert CODE not in text
        assert not any(phone.removeprefix("+212") in text for phone in [*phones, fresh])
    clock.advance(24 * HOUR - 1)
    assert await lockout.is_locked(fresh, CODE)
    clock.advance(1)
    assert not await lockout.is_locked(fresh, CODE)


async def test_a_locked_code_alerts_once(lockout: Lockout) -> None:
    phones = [f"+2126000001{i:02d}" for i in range(12)]
    with structlog.testing.capture_logs() as logs:
        for phone in phones:
            await lockout.record_failure(phone, CODE)
    assert [line["event"] for line in logs].count("verification_code_locked") == 1


async def test_thresholds_are_parameters(make: Callable[..., RedisLockout], clock: Clock) -> None:
    lockout = make(phone_cooloff_after=2, phone_cooloff_s=60, code_lock_after=3)
    assert await fail(lockout, 2, code="Z990000999") == [False, True]
    clock.advance(60)
    assert not await lockout.is_locked(PHONE)
    for phone in ("+212600000201", "+212600000202", "+212600000203"):
        await lockout.record_failure(phone, CODE)
    assert await lockout.is_locked("+212600000299", CODE)


async def test_nonsense_thresholds_are_refused(redis: Redis, key_secret: bytes) -> None:
    with pytest.raises(ValueError, match="thresholds"):
        RedisLockout(redis, key_secret=key_secret, phone_cooloff_after=6, phone_lock_after=5)
    with pytest.raises(ValueError, match="thresholds"):
        RedisLockout(redis, key_secret=key_secret, code_lock_after=0)


# --- issue #21: lockouts no stranger can turn against a family ---------------------------

CALL = "CA0123456789abcdef0123456789abcdef"


async def test_todays_keys_keep_their_names(
    lockout: Lockout, redis: Redis, prefix: str, key_secret: bytes
) -> None:
    """Locks already in Redis when this release deploys keep holding."""
    keys = Keys(key_secret, prefix=prefix)
    await fail(lockout, 1)
    phone_tag = f"{prefix}:{{vp:{keys.digest(PHONE)}}}"
    code_tag = f"{prefix}:{{vc:{keys.digest(CODE, label='massar-code' + chr(0))}}}"
    found = {key.decode() async for key in redis.scan_iter(match=f"{prefix}:*")}
    assert found == {phone_tag + ":fails", code_tag + ":fails"}
    await redis.set(phone_tag + ":until", str(int((1_750_000_000.0 + HOUR) * 1000)))
    assert await lockout.is_locked(PHONE)


async def test_voice_failures_lock_the_call_and_its_caller_ids_voice_attempts_only(
    lockout: Lockout, clock: Clock
) -> None:
    failed = [await lockout.record_failure(PHONE, CODE, call=CALL) for _ in range(2)]
    assert failed == [False, True]
    assert await lockout.is_locked(PHONE, call=CALL)
    assert await lockout.is_locked(PHONE, call="CA-another-call")  # the caller ID's voice
    assert await lockout.is_locked("+212600000777", call=CALL)  # the call, whoever it claims
    assert not await lockout.is_locked(PHONE)  # SMS, USSD, WhatsApp, Telegram: not locked
    assert not await lockout.is_locked(PHONE, CODE)
    clock.advance(24 * HOUR)
    assert not await lockout.is_locked(PHONE, call="CA-another-call")


async def test_a_withheld_caller_id_counts_against_the_call_only(lockout: Lockout) -> None:
    await lockout.record_failure("", CODE, call=CALL)
    await lockout.record_failure("", CODE, call=CALL)
    assert await lockout.is_locked("", call=CALL)
    assert not await lockout.is_locked("", call="CA-another-withheld-call")


async def test_a_phone_locked_where_its_operator_vouches_is_locked_on_voice_too(
    lockout: Lockout,
) -> None:
    await fail(lockout, 3)
    assert await lockout.is_locked(PHONE, call=CALL)


async def test_a_locked_code_does_not_stop_its_holder(lockout: Lockout) -> None:
    for i in range(10):
        await lockout.record_failure(f"+2126990000{i:02d}", CODE)
    assert await lockout.is_locked(PHONE, CODE)
    assert not await lockout.is_locked(PHONE, CODE, holder=True)
    assert not await lockout.is_locked(PHONE, CODE, call=CALL, holder=True)
    # The holder's own failures count as anyone's, and lock it by its own counter only.
    assert await fail_holder(lockout, 3) == [False, False, True]
    assert await lockout.is_locked(PHONE, CODE, holder=True)


async def fail_holder(lockout: Lockout, times: int) -> list[bool]:
    return [await lockout.record_failure(PHONE, CODE, holder=True) for _ in range(times)]


async def test_clearing_a_phone_clears_its_voice_attempts_too(
    make: Callable[..., RedisLockout],
) -> None:
    lockout = make()
    await fail(lockout, 3)
    for _ in range(2):
        await lockout.record_failure(PHONE, CODE, call=CALL)
    await lockout.clear_phone(PHONE)
    assert not await lockout.is_locked(PHONE)
    assert not await lockout.is_locked(PHONE, call="CA-another-call")
    assert await lockout.is_locked(PHONE, call=CALL)  # the call itself stays locked
