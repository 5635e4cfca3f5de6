"""SessionStore's two round trips of a turn: `open_turn` (dedupe, rate limit, lock, session)
and `close_turn` (compare-and-set, remembered answer, unlock), and what they guarantee."""

from __future__ import annotations

import anyio
import pytest
from redis.asyncio import Redis
from redis.crc import key_slot

from gateway.dialogs.model import ChannelKind, Session
from gateway.resilience.cache import Cache
from gateway.state.resilience.limits import RateLimiter
from gateway.state.store import LockTimeout, Opened, Outcome, SessionConflict, SessionStore

pytestmark = [pytest.mark.anyio, pytest.mark.redis]

PHONE = "+212612345678"
USSD = ChannelKind.USSD
SMS = ChannelKind.SMS


@pytest.fixture
def store(redis: Redis, prefix: str, key_secret: bytes) -> SessionStore:
    return SessionStore(redis, key_secret=key_secret, prefix=prefix)


async def run_turn(
    store: SessionStore, message_id: str, answer: bytes, *, limit: int = 0, **kwargs: object
) -> Opened:
    """A whole turn as the runner does it: open, (no step), close with `answer`."""
    opened = await store.open_turn(USSD, PHONE, message_id, rate_limit=limit, **kwargs)  # type: ignore[arg-type]
    if opened.outcome is Outcome.RUN:
        base = opened.session or Session()
        await store.close_turn(USSD, PHONE, message_id, opened, base, answer, remember_s=60)
    return opened


async def test_a_turn_opens_with_the_lock_and_closes_saved_remembered_and_unlocked(
    store: SessionStore, redis: Redis
) -> None:
    opened = await store.open_turn(USSD, PHONE, "m1")
    assert opened.outcome is Outcome.RUN
    assert opened.session is None  # nothing stored yet
    assert await redis.get(store.keys.lock(USSD, PHONE)) == opened.token.encode()
    saved = await store.close_turn(
        USSD, PHONE, "m1", opened, Session(state="main"), b"CON Menu", remember_s=60
    )
    assert saved.rev == 1
    assert await store.load(USSD, PHONE) == saved
    assert await store.remembered(USSD, PHONE, "m1") == b"CON Menu"
    assert 55 < await redis.ttl(store.keys.seen(USSD, PHONE, "m1")) <= 60
    assert await redis.exists(store.keys.lock(USSD, PHONE)) == 0
    again = await store.open_turn(USSD, PHONE, "m2")
    assert again.session == saved  # the next turn loads what this one saved


async def test_a_retry_after_the_answer_replays_it_uncounted_even_past_the_limit(
    store: SessionStore, redis: Redis
) -> None:
    await run_turn(store, "m1", b"CON first", limit=1)
    replay = await store.open_turn(USSD, PHONE, "m1", rate_limit=1)
    assert replay.outcome is Outcome.REPLAY
    assert replay.answer == b"CON first"
    assert await redis.zcard(store.keys.turns(PHONE)) == 1  # only the first counted
    assert await redis.exists(store.keys.lock(USSD, PHONE)) == 0  # a replay takes no lock
    limited = await store.open_turn(USSD, PHONE, "m2", rate_limit=1)
    assert limited.outcome is Outcome.LIMITED  # a new message is refused, a retry never


async def test_a_retry_mid_turn_waits_for_the_first_answer_and_is_never_refused(
    store: SessionStore, redis: Redis
) -> None:
    first = await store.open_turn(USSD, PHONE, "m1", rate_limit=1)  # the limit is now reached
    outcomes: list[Opened] = []

    async def retry() -> None:
        outcomes.append(await store.open_turn(USSD, PHONE, "m1", rate_limit=1, wait_s=2.0))

    async with anyio.create_task_group() as tg:
        tg.start_soon(retry)
        await anyio.sleep(0.1)  # the retry polls against the first turn's lock
        assert outcomes == []
        await store.close_turn(
            USSD, PHONE, "m1", first, Session(state="main"), b"CON first", remember_s=60
        )
    assert outcomes[0].outcome is Outcome.REPLAY
    assert outcomes[0].answer == b"CON first"
    assert await redis.zcard(store.keys.turns(PHONE)) == 1


async def test_another_message_waits_for_the_lock_then_runs_on_the_saved_session(
    store: SessionStore,
) -> None:
    first = await store.open_turn(USSD, PHONE, "m1")
    order: list[str] = []

    async def second() -> None:
        opened = await store.open_turn(USSD, PHONE, "m2", wait_s=2.0)
        order.append("second opened")
        assert opened.outcome is Outcome.RUN
        assert opened.session is not None
        assert opened.session.state == "main"  # the first turn's save, not a stale read

    async with anyio.create_task_group() as tg:
        tg.start_soon(second)
        await anyio.sleep(0.05)
        order.append("first closes")
        await store.close_turn(USSD, PHONE, "m1", first, Session(state="main"), b"a", remember_s=60)
    assert order == ["first closes", "second opened"]


async def test_an_opened_turn_excludes_others_until_they_time_out(store: SessionStore) -> None:
    await store.open_turn(USSD, PHONE, "m1")
    with pytest.raises(LockTimeout):
        await store.open_turn(USSD, PHONE, "m2", wait_s=0.05)
    with pytest.raises(LockTimeout):
        async with store.lock(USSD, PHONE, wait_s=0.05):
            pytest.fail("a lock() holder beside an open turn")


async def test_open_turn_waits_for_a_lock_taken_with_lock(store: SessionStore) -> None:
    async with store.lock(USSD, PHONE):
        with pytest.raises(LockTimeout):
            await store.open_turn(USSD, PHONE, "m1", wait_s=0.05)
    assert (await store.open_turn(USSD, PHONE, "m1", wait_s=0)).outcome is Outcome.RUN


async def test_the_rate_limit_counts_turns_that_run_and_refuses_past_it(
    store: SessionStore, redis: Redis
) -> None:
    outcomes = [(await run_turn(store, f"m{i}", b"a", limit=2)).outcome for i in range(4)]
    assert outcomes == [Outcome.RUN, Outcome.RUN, Outcome.LIMITED, Outcome.LIMITED]
    assert await redis.zcard(store.keys.turns(PHONE)) == 2  # refused turns are not counted
    assert await redis.exists(store.keys.lock(USSD, PHONE)) == 0  # nor do they lock
    # The limit is per phone across channels: an SMS from the same phone is refused too.
    sms = await store.open_turn(SMS, PHONE, "SM1", rate_limit=2)
    assert sms.outcome is Outcome.LIMITED


async def test_the_rate_limit_window_slides(store: SessionStore) -> None:
    limit = {"limit": 1, "rate_window_ms": 200}
    assert (await run_turn(store, "m1", b"a", **limit)).outcome is Outcome.RUN  # type: ignore[arg-type]
    assert (await run_turn(store, "m2", b"a", **limit)).outcome is Outcome.LIMITED  # type: ignore[arg-type]
    await anyio.sleep(0.3)
    assert (await run_turn(store, "m3", b"a", **limit)).outcome is Outcome.RUN  # type: ignore[arg-type]


async def test_a_message_past_the_limit_is_refused_at_once_while_another_turn_runs(
    store: SessionStore,
) -> None:
    await store.open_turn(USSD, PHONE, "m1", rate_limit=1)
    # No time to wait: a turn told to wait would raise LockTimeout, a refusal comes first.
    refused = await store.open_turn(USSD, PHONE, "m2", rate_limit=1, wait_s=0)
    assert refused.outcome is Outcome.LIMITED


async def test_the_rate_limiter_and_the_turn_count_in_one_set(
    store: SessionStore, redis: Redis, prefix: str, key_secret: bytes
) -> None:
    limiter = RateLimiter(redis, key_secret=key_secret, limit=2, prefix=prefix)
    assert limiter.key(PHONE) == store.keys.turns(PHONE)
    assert await limiter.hit(PHONE)
    opened = await store.open_turn(USSD, PHONE, "m1", rate_key=limiter.key(PHONE), rate_limit=2)
    assert opened.outcome is Outcome.RUN
    assert not await limiter.hit(PHONE)


async def test_close_at_a_stale_rev_conflicts_but_still_remembers_and_unlocks(
    store: SessionStore, redis: Redis
) -> None:
    opened = await store.open_turn(USSD, PHONE, "m1")
    other = await store.save(USSD, PHONE, Session(state="other"))  # a writer whose lease ran on
    with pytest.raises(SessionConflict) as caught:
        await store.close_turn(
            USSD, PHONE, "m1", opened, Session(state="main"), b"a", remember_s=60
        )
    assert (caught.value.expected, caught.value.found) == (0, 1)
    assert await store.load(USSD, PHONE) == other  # the other writer's state stays
    assert await store.remembered(USSD, PHONE, "m1") == b"a"
    assert await redis.exists(store.keys.lock(USSD, PHONE)) == 0


async def test_a_dead_turns_lease_expires_and_its_late_close_leaves_the_new_lock(
    store: SessionStore, redis: Redis
) -> None:
    dead = await store.open_turn(USSD, PHONE, "m1", lease_s=0.2)
    assert 0 < await redis.pttl(store.keys.lock(USSD, PHONE)) <= 200
    alive = await store.open_turn(USSD, PHONE, "m2", wait_s=2.0)
    assert alive.outcome is Outcome.RUN
    saved = await store.close_turn(
        USSD, PHONE, "m2", alive, Session(state="main"), b"a", remember_s=60
    )
    assert saved.rev == 1
    with pytest.raises(SessionConflict):  # the dead turn wakes up: its save loses by rev
        await store.close_turn(USSD, PHONE, "m1", dead, Session(), b"late", remember_s=60)
    assert await store.load(USSD, PHONE) == saved
    third = await store.open_turn(USSD, PHONE, "m3")
    await store.release_turn(USSD, PHONE, dead)  # a late release is not the new holder's
    assert await redis.get(store.keys.lock(USSD, PHONE)) == third.token.encode()
    await store.release_turn(USSD, PHONE, third)
    assert await redis.exists(store.keys.lock(USSD, PHONE)) == 0


async def test_a_retry_of_a_dead_turn_takes_over_once_its_lease_expires(
    store: SessionStore,
) -> None:
    await store.open_turn(USSD, PHONE, "m1", lease_s=0.2)  # the worker dies mid-turn
    retry = await store.open_turn(USSD, PHONE, "m1", wait_s=2.0)
    assert retry.outcome is Outcome.RUN  # nothing was answered: the retry runs the turn


async def test_open_turn_reads_a_cache_entry_of_the_same_tag_along(
    store: SessionStore, redis: Redis, prefix: str, key_secret: bytes
) -> None:
    cache = Cache(redis, key_secret=key_secret, prefix=prefix)
    key = cache.key("guardian", [PHONE])
    assert (await store.open_turn(USSD, PHONE, "m1", entry_key=key)).entry is None
    await redis.set(key, b'{"at":1,"v":{}}', ex=60)
    opened = await store.open_turn(SMS, PHONE, "SM1", entry_key=key)
    assert opened.entry == b'{"at":1,"v":{}}'


async def test_every_key_a_turn_touches_shares_the_phones_slot(
    store: SessionStore, prefix: str, key_secret: bytes, redis: Redis
) -> None:
    keys = store.keys
    names = [
        keys.turns(PHONE),
        Cache(redis, key_secret=key_secret, prefix=prefix).key("guardian", [PHONE]),
    ]
    for channel in ChannelKind:
        names += [
            keys.session(channel, PHONE),
            keys.lock(channel, PHONE),
            keys.seen(channel, PHONE, "ATUid_9:1*2"),
        ]
    assert len({key_slot(name.encode()) for name in names}) == 1, names
    assert all(keys.user_tag(PHONE) in name for name in names)
