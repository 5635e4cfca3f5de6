"""Rotating the identity key (issue #25 item 5): bindings, opt-outs, preferences, Telegram links,
held alerts, message records and lockouts survive it, before, during and after `rekey`; rekey is
resumable and idempotent; a wrong or missing previous key is refused at start. On SQLite always
and on PostgreSQL when it answers; lockouts on the real Redis when it answers."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from redis.asyncio import Redis

from gateway.alerts.plan import Alert, Hold
from gateway.dialogs.model import ChannelKind, Inbound
from gateway.outbox.queue import Outbox
from gateway.state.alerts.preferences import SqlPreferences
from gateway.state.alerts.store import AlertStore
from gateway.state.bindings import SqlBindings
from gateway.state.connections import open_database
from gateway.state.console.operators import OperatorStore
from gateway.state.helpdesk import HelpdeskQueue
from gateway.state.identity import KeyMismatch, open_keyring
from gateway.state.keyring import KeyRing
from gateway.state.keys import Keys
from gateway.state.lockout import RedisLockout
from gateway.state.migrate import upgrade
from gateway.state.rekey import HASHED, left_behind, rekey
from gateway.state.schema import metadata
from gateway.state.telegram_links import TelegramLinks
from tests.databases import empty_database

pytestmark = [pytest.mark.anyio, pytest.mark.postgres, pytest.mark.redis]

K1, K2, K3 = b"first-identity-key-0123456789", b"second-identity-key-abcdefghij", b"third-key-xyz"
PARENT = "+212612345678"  # binds a child, chooses French and a digest
STOPPED = "+212698765432"  # opted out of alerts
CHAT = 424242
PARENT_HD = f"+21266{uuid.uuid4().int % 10**7:07d}"  # the helpdesk's keys are shared: unique
AT = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_url: str | None
) -> Iterator[sa.Engine]:
    with empty_database(request.param, tmp_path, postgres_url) as url:
        upgrade(url)
        engine = open_database(url)
        yield engine
        engine.dispose()


def rows(engine: sa.Engine) -> dict[str, list[tuple[object, ...]]]:
    """Every hashed table's rows, sorted: what a no-op leaves as it found."""
    with engine.connect() as conn:
        return {
            spec.name: sorted(tuple(r) for r in conn.execute(sa.select(spec.table)))
            for spec in HASHED
        }


async def write_under(engine: sa.Engine, ring: KeyRing, *, parent: str = PARENT) -> None:
    """What a family leaves in SQL: a binding, preferences, an opt-out, a Telegram link, an
    alert held for the morning."""
    await SqlBindings(engine, key_secret=ring).bind(parent, "stu_1", AT)
    prefs = SqlPreferences(engine, key_secret=ring)
    await prefs.set_lang(parent, "fr", AT)
    await prefs.set_kinds(parent, {"absence"}, digest=True, at=AT)
    await prefs.opt_out(STOPPED, AT)
    await TelegramLinks(engine, key_secret=ring).link(CHAT, parent, AT)
    alert = Alert(
        event_id="evt_1",
        seq=1,
        kind="absence",
        student_id="stu_1",
        guardian_ids=("g1",),
        payload={},
    )
    await AlertStore(engine, key_secret=ring).advance(
        "c1", [Hold(alert=alert, guardian_id="g1", phone=parent, release_at=AT)], AT
    )


async def assert_family_kept(engine: sa.Engine, ring: KeyRing) -> None:
    assert await SqlBindings(engine, key_secret=ring).bound_since(PARENT) == {"stu_1": AT}
    prefs = SqlPreferences(engine, key_secret=ring)
    assert await prefs.is_opted_out(STOPPED)
    mine = (await prefs.for_phones([PARENT]))[PARENT]
    assert (mine.lang, mine.kinds, mine.digest, mine.opted_out) == ("fr", {"absence"}, True, False)
    assert await TelegramLinks(engine, key_secret=ring).phone(CHAT) == PARENT
    store = AlertStore(engine, key_secret=ring)
    held = await store.due(AT)
    assert [h.phone_h in store.phone_hs(PARENT) for h in held] == [True]


# --- the chain ------------------------------------------------------------------------------


def test_one_key_is_the_plain_hmac_and_a_rotation_moves_a_hash_without_the_phone() -> None:
    plain = hmac.new(K1, PARENT.encode(), hashlib.sha256).hexdigest()
    one, two = KeyRing((K1,)), KeyRing((K1, K2))
    assert one.address_h(PARENT) == plain  # nothing stored changes until a second key is set
    assert Keys(one).digest(PARENT) == Keys(K1).digest(PARENT) == plain[:32]
    assert two.advance(plain, 1) == two.address_h(PARENT)  # the rekey needs no phone
    # Neither key alone hashes a phone to what is stored: an attacker with the database and one
    # leaked key cannot test guesses (each needs the whole chain).
    stored = two.address_h(PARENT)
    assert stored not in {
        plain,
        hmac.new(K2, PARENT.encode(), hashlib.sha256).hexdigest(),
        KeyRing((K2,)).address_h(PARENT),
    }
    settling = KeyRing((K1, K2), read_from=1)
    assert settling.address_hs(PARENT) == [stored, plain]  # the newest first


# --- SQL: before, during and after the rekey -----------------------------------------------


async def test_a_rotation_keeps_every_binding_opt_out_and_preference(engine: sa.Engine) -> None:
    first = open_keyring(engine, [K1])
    await write_under(engine, first)
    before = rows(engine)

    rotated = open_keyring(engine, [K1, K2])  # the gateway restarted with the new key
    assert (rotated.gen, list(rotated.generations())) == (2, [1, 2])
    await assert_family_kept(engine, rotated)  # before the rekey: read under both chains

    partial = rekey(engine, rotated, batch=1, max_batches=2)  # stopped along the way
    assert not partial.done
    await assert_family_kept(engine, rotated)  # during
    # A write during the rekey moves the phone's row; the opt-out goes with it.
    await SqlPreferences(engine, key_secret=rotated).set_lang(STOPPED, "ar")
    assert await SqlPreferences(engine, key_secret=rotated).is_opted_out(STOPPED)

    report = rekey(engine, rotated)
    assert report.done
    assert not report.already
    assert left_behind(engine, 2) == {spec.name: 0 for spec in HASHED}

    restarted = open_keyring(engine, [K1, K2])  # after: the newest chain alone
    assert list(restarted.generations()) == [2]
    await assert_family_kept(engine, restarted)
    assert await SqlPreferences(engine, key_secret=restarted).lang(STOPPED) == "ar"
    after = rows(engine)
    assert after != before  # every hash moved ...
    assert sum(len(v) for v in after.values()) == sum(len(v) for v in before.values())

    again = rekey(engine, restarted)  # ... once: a second run is a no-op
    assert again.already
    assert rows(engine) == after
    # The old key alone finds nothing any more.
    assert await SqlBindings(engine, key_secret=K1).bound_since(PARENT) == {}


async def test_a_stopped_rekey_resumes_where_it_stood(engine: sa.Engine) -> None:
    first = open_keyring(engine, [K1])
    phones = [f"+2126000000{n:02d}" for n in range(23)]
    for phone in phones:
        await SqlBindings(engine, key_secret=first).bind(phone, "stu_9", AT)
    rotated = open_keyring(engine, [K1, K2])
    moved = 0
    runs = 0
    while True:
        runs += 1
        report = rekey(engine, rotated, batch=4, max_batches=2)  # killed after 2 transactions
        moved += report.moved.get("phone_binding", 0)
        if report.done:
            break
        with engine.connect() as conn:
            progress = conn.execute(sa.text("select progress from identity_key where gen = 2"))
            assert "phone_binding" in progress.scalar_one()  # where it stood, kept
    assert runs > 3
    assert moved == len(phones)
    settled = open_keyring(engine, [K1, K2])
    for phone in phones:
        assert await SqlBindings(engine, key_secret=settled).bound_since(phone) == {"stu_9": AT}


async def test_two_rotations_and_a_twin_written_by_an_old_process(engine: sa.Engine) -> None:
    first = open_keyring(engine, [K1])
    await write_under(engine, first)
    second = open_keyring(engine, [K1, K2])
    # A process still on the old configuration opts the parent out after the new one wrote
    # the parent's preferences under the new chain: two rows for one phone.
    await SqlPreferences(engine, key_secret=second).set_lang(PARENT, "ar", AT)
    later = AT + timedelta(minutes=5)
    await SqlPreferences(engine, key_secret=KeyRing((K1,))).opt_out(PARENT, later)
    assert await SqlPreferences(engine, key_secret=second).is_opted_out(PARENT)  # the later
    report = rekey(engine, second)
    assert report.done
    assert report.merged["alert_preference"] == 1
    third = open_keyring(engine, [K1, K2, K3])  # rotated again at once: two links at a time
    assert rekey(engine, third).done
    settled = open_keyring(engine, [K1, K2, K3])
    assert await SqlPreferences(engine, key_secret=settled).is_opted_out(PARENT)
    assert await SqlPreferences(engine, key_secret=settled).is_opted_out(STOPPED)
    assert await SqlBindings(engine, key_secret=settled).bound_since(PARENT) == {"stu_1": AT}


async def test_sealed_secrets_are_sealed_again_under_the_newest_key(engine: sa.Engine) -> None:
    first = open_keyring(engine, [K1])
    OperatorStore(engine, key_secret=first).add(
        "samir", "supervisor", "a-long-password-1", totp_secret="JBSWY3DPEHPK3PXP"
    )
    await TelegramLinks(engine, key_secret=first).link(CHAT, PARENT, AT)
    rotated = open_keyring(engine, [K1, K2])
    assert rekey(engine, rotated).resealed == 1  # the owner's name is stored: sealed again
    # Only the whole chain opens it now; the old key alone does not.
    assert OperatorStore(engine, key_secret=rotated).get("samir").totp_secret == "JBSWY3DPEHPK3PXP"  # type: ignore[union-attr]
    assert OperatorStore(engine, key_secret=K1).get("samir").totp_unreadable  # type: ignore[union-attr]
    # A Telegram link needs its chat id to open: sealed again the next time the chat writes.
    links = TelegramLinks(engine, key_secret=rotated)
    with engine.connect() as conn:
        box = conn.execute(sa.select(metadata.tables["telegram_link"].c.phone_box)).scalar_one()
    assert links._opened(CHAT, box) == (PARENT, 1)
    assert await links.phone(CHAT) == PARENT
    with engine.connect() as conn:
        box = conn.execute(sa.select(metadata.tables["telegram_link"].c.phone_box)).scalar_one()
    assert links._opened(CHAT, box) == (PARENT, 2)
    assert await TelegramLinks(engine, key_secret=K1).phone(CHAT) is None


# --- refusals at start -----------------------------------------------------------------------


def test_a_missing_or_wrong_previous_key_is_refused_in_one_line(engine: sa.Engine) -> None:
    open_keyring(engine, [K1])
    with pytest.raises(KeyMismatch) as missing:  # the new key set, the old one forgotten
        open_keyring(engine, [K2])
    text = str(missing.value)
    assert "fingerprint mismatch" in text
    assert "GATEWAY_IDENTITY_KEY_PREVIOUS" in text
    assert "\n" not in text
    assert K1.decode() not in text
    assert K2.decode() not in text
    with pytest.raises(KeyMismatch, match="fingerprint mismatch: key 1 of"):
        open_keyring(engine, [K3, K2])  # a wrong previous key
    open_keyring(engine, [K1, K2])
    with pytest.raises(KeyMismatch, match="earlier key"):  # a process on the old config
        open_keyring(engine, [K1])
    with pytest.raises(KeyMismatch, match="fingerprint mismatch"):
        open_keyring(engine, [K1, K3])


# --- Redis: lockouts -------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1_765_000_000.0

    def __call__(self) -> float:
        return self.now


async def test_no_lockout_is_escaped_by_a_rotation(redis: Redis, prefix: str) -> None:
    clock = Clock()
    old = RedisLockout(redis, key_secret=K1, clock=clock, prefix=prefix)
    for _ in range(5):
        await old.record_failure(PARENT, "Z990000123")
    for _ in range(4):
        await old.record_failure(STOPPED, "Z990000456")
    assert await old.is_locked(PARENT)
    carried = RedisLockout(
        redis, key_secret=KeyRing((K1, K2), carry=True), clock=clock, prefix=prefix
    )
    assert await carried.is_locked(PARENT)  # locked under the old names: still locked
    assert (await carried.phone_state(PARENT))[0] == 5
    clock.now += 16 * 60  # STOPPED's cool-off is over; its fifth failure locks it for a day
    assert not await carried.is_locked(STOPPED)
    assert await carried.record_failure(STOPPED, "Z990000456")
    clock.now += 23 * 3600  # its lock lasts the day, read under the old names
    assert await carried.is_locked(STOPPED)
    # Every failure within the carry is counted under both names, so from 24 h after the
    # rotation both counts hold the same failures: past the carry (48 h, longer than any
    # lock or window) the new names alone say the same.
    clock.now += 2 * 3600
    assert not await carried.is_locked(STOPPED)
    for _ in range(5):
        await carried.record_failure(STOPPED, "Z990000456")
    fresh = RedisLockout(redis, key_secret=KeyRing((K1, K2)), clock=clock, prefix=prefix)
    assert await fresh.is_locked(STOPPED)
    assert (await fresh.phone_state(STOPPED))[0] == (await old.phone_state(STOPPED))[0] == 5


def test_the_carry_lasts_48_hours_after_the_rotation(engine: sa.Engine) -> None:
    open_keyring(engine, [K1], now=AT)
    assert not open_keyring(engine, [K1], now=AT).carry
    rotated_at = AT + timedelta(days=30)
    assert open_keyring(engine, [K1, K2], now=rotated_at).carry
    assert open_keyring(engine, [K1, K2], now=rotated_at + timedelta(hours=47)).carry
    assert not open_keyring(engine, [K1, K2], now=rotated_at + timedelta(hours=49)).carry


async def test_the_helpdesk_joins_and_forgets_a_phone_across_a_rotation(redis: Redis) -> None:
    def queue(secret: bytes | KeyRing) -> HelpdeskQueue:
        outbox = Outbox(redis, key_secret=K1)
        return HelpdeskQueue(
            redis, key_secret=secret, send=outbox.reply, expiry_s=600, hotline="0800"
        )

    def said(text: str) -> Inbound:
        return Inbound(
            channel=ChannelKind.SMS,
            sender=PARENT_HD,
            text=text,
            message_id=uuid.uuid4().hex,
            received_at=datetime.now(UTC),
        )

    old = queue(K1)
    await old.unmatched(said("bonjour"), "fr")
    rotated = queue(KeyRing((K1, K2), carry=True))
    await rotated.unmatched(said("vous êtes là ?"), "fr")
    mine = [item for item in await rotated.open_items() if item.phone == PARENT_HD]
    assert [len(item.messages) for item in mine] == [2]  # joined the item opened before
    assert await rotated.forget(PARENT_HD) == 1
    assert [item for item in await rotated.open_items() if item.phone == PARENT_HD] == []
    assert await redis.keys(f"mg:{{helpdesk}}:*:{Keys(K1)._helpdesk_h(PARENT_HD)}") == []


async def test_two_old_rows_of_one_phone_in_one_batch_leave_the_later(engine: sa.Engine) -> None:
    open_keyring(engine, [K1])
    await SqlPreferences(engine, key_secret=K1).opt_out(STOPPED, AT)
    open_keyring(engine, [K1, K2])  # rotated, not rekeyed, then rotated again
    blind = KeyRing((K1, K2))  # a writer that reads the newest chain alone: a second row
    await SqlPreferences(engine, key_secret=blind).opt_in(STOPPED, AT + timedelta(hours=1))
    third = open_keyring(engine, [K1, K2, K3])
    report = rekey(engine, third)  # both rows move to the same hash, in one batch
    assert report.merged["alert_preference"] == 1
    settled = open_keyring(engine, [K1, K2, K3])
    assert not await SqlPreferences(engine, key_secret=settled).is_opted_out(STOPPED)  # later
    with engine.connect() as conn:
        table = metadata.tables["alert_preference"]
        assert conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one() == 1
