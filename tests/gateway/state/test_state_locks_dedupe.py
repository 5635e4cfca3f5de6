"""SessionStore: the per-user lock, the dedupe of provider message ids, and key privacy."""

from __future__ import annotations

import anyio
import pytest
from redis.asyncio import Redis
from redis.crc import key_slot

from gateway.dialogs.model import ChannelKind, Session
from gateway.logs import phone_hash
from gateway.state.keys import Keys
from gateway.state.lockout import RedisLockout
from gateway.state.store import LockTimeout, SessionStore

pytestmark = [pytest.mark.anyio, pytest.mark.redis]

PHONE = "+212612345678"
OTHER = "+212712345678"
CODE = "Z990000123"
USSD = ChannelKind.USSD


@pytest.fixture
def store(redis: Redis, prefix: str, key_secret: bytes) -> SessionStore:
    return SessionStore(redis, key_secret=key_secret, prefix=prefix)


# ---- lock --------------------------------------------------------------------------------------


async def test_lock_excludes_a_second_holder_until_it_times_out(store: SessionStore) -> None:
    async with store.lock(USSD, PHONE):
        with pytest.raises(LockTimeout):
            async with store.lock(USSD, PHONE, wait_s=0.05):
                pytest.fail("two holders of one user's lock")


async def test_waiter_gets_the_lock_once_the_holder_leaves(store: SessionStore) -> None:
    order: list[str] = []
    held = anyio.Event()

    async def second() -> None:
        await held.wait()
        async with store.lock(USSD, PHONE, wait_s=2.0):
            order.append("second acquired")

    async with anyio.create_task_group() as tg:
        tg.start_soon(second)
        async with store.lock(USSD, PHONE):
            held.set()
            await anyio.sleep(0.05)  # let the waiter poll against a held lock
            order.append("first leaves")
    assert order == ["first leaves", "second acquired"]


async def test_lock_is_freed_when_the_block_raises(store: SessionStore, redis: Redis) -> None:
    with pytest.raises(RuntimeError):
        async with store.lock(USSD, PHONE):
            raise RuntimeError("turn failed")
    assert await redis.exists(store.keys.lock(USSD, PHONE)) == 0
    async with store.lock(USSD, PHONE, wait_s=0):
        pass


async def test_locks_of_different_users_and_channels_are_independent(store: SessionStore) -> None:
    async with store.lock(USSD, PHONE):
        async with store.lock(USSD, OTHER, wait_s=0):
            pass
        async with store.lock(ChannelKind.SMS, PHONE, wait_s=0):
            pass


async def test_dead_holders_lock_expires_with_its_lease(store: SessionStore, redis: Redis) -> None:
    dead = store.lock(USSD, PHONE, lease_s=0.2)
    await dead.__aenter__()  # the holder "dies": it never leaves the block in time
    key = store.keys.lock(USSD, PHONE)
    assert 0 < await redis.pttl(key) <= 200
    async with store.lock(USSD, PHONE, wait_s=2.0):
        # The late holder's release must not free the lock that is now someone else's.
        await dead.__aexit__(None, None, None)
        assert await redis.exists(key) == 1
    assert await redis.exists(key) == 0


# ---- dedupe ------------------------------------------------------------------------------------


async def test_a_message_id_is_remembered_once_and_replays_the_first_answer(
    store: SessionStore, redis: Redis
) -> None:
    assert await store.remembered(USSD, PHONE, "ATUid_1") is None
    assert await store.remember(USSD, PHONE, "ATUid_1", b"CON Menu", ttl_s=60) is True
    assert await store.remember(USSD, PHONE, "ATUid_1", b"END other", ttl_s=60) is False
    assert await store.remembered(USSD, PHONE, "ATUid_1") == b"CON Menu"
    assert 55 < await redis.ttl(store.keys.seen(USSD, PHONE, "ATUid_1")) <= 60


async def test_dedupe_is_scoped_per_user_and_channel(store: SessionStore) -> None:
    await store.remember(USSD, PHONE, "SM1", b"answer", ttl_s=60)
    assert await store.remembered(USSD, OTHER, "SM1") is None
    assert await store.remembered(ChannelKind.SMS, PHONE, "SM1") is None
    assert await store.remembered(USSD, PHONE, "SM2") is None


# ---- key names ---------------------------------------------------------------------------------


async def test_one_users_keys_share_one_cluster_slot(store: SessionStore) -> None:
    keys = store.keys
    names = [keys.turns(PHONE)]
    for channel in ChannelKind:
        names += [
            keys.session(channel, PHONE),
            keys.lock(channel, PHONE),
            keys.seen(channel, PHONE, "SM1"),
            keys.seen(channel, PHONE, "ATUid_9:1*2"),
        ]
    # One tag per phone: every channel's keys and the rate limit on one slot.
    assert len({key_slot(name.encode()) for name in names}) == 1, names
    assert all(keys.user_tag(PHONE) in name for name in names)
    assert keys.user_tag(PHONE) != keys.user_tag(OTHER)
    assert keys.session(USSD, PHONE) != keys.session(ChannelKind.SMS, PHONE)
    assert keys.seen(USSD, PHONE, "SM1") != keys.seen(ChannelKind.SMS, PHONE, "SM1")


def test_user_hash_starts_with_the_logs_phone_hash(key_secret: bytes) -> None:
    keys = Keys(key_secret)
    assert keys.user_tag(PHONE) == "{" + keys.digest(PHONE) + "}"
    assert keys.digest(PHONE).startswith(phone_hash(key_secret, PHONE))
    assert keys.session(USSD, PHONE) == "mg:{" + keys.digest(PHONE) + "}:ussd:session"


async def test_no_phone_number_or_code_appears_in_any_key(
    store: SessionStore, redis: Redis, prefix: str, key_secret: bytes
) -> None:
    lockout = RedisLockout(redis, key_secret=key_secret, prefix=prefix)
    national = PHONE.removeprefix("+212")
    for channel in ChannelKind:
        async with store.lock(channel, PHONE):
            saved = await store.save(channel, PHONE, Session(state="menu"))
            # USSD dedupe ids carry the user's text path, which may hold a code and a birth date.
            seen_id = f"ATUid_1:1*{CODE}*01022015"
            await store.remember(channel, PHONE, seen_id, b"END ok", ttl_s=60)
            await store.save(channel, PHONE, saved)
    for _ in range(3):
        await lockout.record_failure(PHONE, CODE)
    assert await lockout.is_locked(PHONE)

    ours = [key.decode() async for key in redis.scan_iter(match=f"{prefix}:*", count=500)]
    # A session and a seen id per channel; the phone's failures and lock end; the code's failures.
    assert len(ours) == 2 * len(ChannelKind) + 3, ours
    everything = [key.decode(errors="replace") async for key in redis.scan_iter(count=500)]
    for key in everything:
        assert national not in key, key
        assert CODE.lower() not in key.lower(), key
        assert "01022015" not in key, key
