"""Every Redis key the gateway builds, pinned to the exact string it had before issue #23.

Queued messages, dedupe markers, lockouts and sessions outlive a deploy: a key that changes
orphans them (a lockout lifted, a message sent twice). The literals below were printed by the
code as it stood before the state layer moved to `gateway.state`; a change that alters one
fails here, and needs a migration with a drain step (`docs/deploy.md`) before this file may
change. The identity key and every id are fixed, so the hashes are too.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from redis.asyncio import Redis

from gateway.dialogs.model import ChannelKind
from gateway.outbox.queue import Outbox
from gateway.resilience.breaker import Breaker
from gateway.resilience.cache import Cache
from gateway.state.console.audit import AuditLog
from gateway.state.console.sessions import CheckCounter, ConsoleSessions, SigninGate
from gateway.state.helpdesk import HelpdeskQueue
from gateway.state.keys import UNMATCHED_LOG, Keys
from gateway.state.lockout import RedisLockout
from gateway.state.meta import MetaSeen
from gateway.state.outbox.priority import Priority
from gateway.state.outbox.sink import SinkStream
from gateway.state.resilience.limits import RateLimiter
from gateway.state.store import SessionStore
from gateway.state.unmatched import UnmatchedLog
from gateway.state.ussd import EndedSessions

SECRET = b"pinned-identity-key"
PHONE = "+212600000001"
USER = "{b8659b3d0aa1c1c7ca15dd420c069a59}"  # the phone's hash tag, on every channel
OUTBOX = "{outbox:76253309}"  # the outbox's tag: its namespace comes from the identity key


@pytest.fixture
def redis() -> Redis:
    """A client that never connects: building a key talks to no server."""
    return Redis()


@pytest.mark.parametrize("channel", list(ChannelKind))
def test_conversation_keys(channel: ChannelKind) -> None:
    keys = Keys(SECRET)
    assert keys.session(channel, PHONE) == f"mg:{USER}:{channel.value}:session"
    assert keys.lock(channel, PHONE) == f"mg:{USER}:{channel.value}:lock"
    assert (
        keys.seen(channel, PHONE, "msg-1")
        == f"mg:{USER}:{channel.value}:seen:f7de129cbacc5d848a6abb597396d0b8"
    )


def test_channel_values_are_pinned() -> None:
    # The channel's value is a part of the session, lock and seen keys above.
    assert [c.value for c in ChannelKind] == ["ussd", "sms", "whatsapp", "telegram", "voice"]


def test_user_keys(redis: Redis) -> None:
    keys = Keys(SECRET)
    assert keys.lang(PHONE) == "mg:{b8659b3d0aa1c1c7ca15dd420c069a59}:lang"
    assert keys.turns(PHONE) == "mg:{b8659b3d0aa1c1c7ca15dd420c069a59}:turns"
    assert RateLimiter(redis, key_secret=SECRET).key(PHONE) == (
        "mg:{b8659b3d0aa1c1c7ca15dd420c069a59}:turns"
    )
    store = SessionStore(redis, key_secret=SECRET)
    assert store.keys.session(ChannelKind.USSD, PHONE) == (
        "mg:{b8659b3d0aa1c1c7ca15dd420c069a59}:ussd:session"
    )
    assert keys.ussd_ended(PHONE, "sess-1") == (
        "mg:{b8659b3d0aa1c1c7ca15dd420c069a59}:ussd:ended:aa6fceeaa5a570c870b3d3903aefb48c"
    )
    assert EndedSessions(store).key(PHONE, "sess-1") == keys.ussd_ended(PHONE, "sess-1")
    # WhatsApp's 24-hour window (issue #26): under the tag, so forgetting the number drops it.
    assert keys.whatsapp_last_inbound(PHONE) == (
        "mg:{b8659b3d0aa1c1c7ca15dd420c069a59}:whatsapp:last-in"
    )
    # Every key under the phone's tag, as "forget this number" scans them (`state.forget`).
    assert keys.user_keys(PHONE) == "mg:{b8659b3d0aa1c1c7ca15dd420c069a59}:*"


def test_meta_seen_key(redis: Redis) -> None:
    keys = Keys(SECRET)
    assert keys.meta_seen("wamid.HBgM1") == "mg:meta:seen:6243fe440cc43137e0de3da07f1efec2"
    assert MetaSeen(redis, keys).keys.meta_seen("wamid.HBgM1") == keys.meta_seen("wamid.HBgM1")


def test_lockout_keys(redis: Redis) -> None:
    keys = Keys(SECRET)
    assert keys.lockout_phone(PHONE) == "mg:{vp:b8659b3d0aa1c1c7ca15dd420c069a59}"
    assert keys.lockout_voice(PHONE) == "mg:{vv:b8659b3d0aa1c1c7ca15dd420c069a59}"
    assert keys.lockout_call("CA123") == "mg:{vk:63df7d77c3b6d472c035e96427c0b2d1}"
    # A code is the same subject whatever its case and surrounding blanks.
    assert keys.lockout_code("g123456789 ") == "mg:{vc:548976706db8e617c81123cd704e3921}"
    assert keys.lockout_code("G123456789") == "mg:{vc:548976706db8e617c81123cd704e3921}"
    lockout = RedisLockout(redis, key_secret=SECRET)
    assert lockout.keys.lockout_phone(PHONE) == keys.lockout_phone(PHONE)


def test_cache_single_flight_and_breaker_keys(redis: Redis) -> None:
    cache = Cache(redis, key_secret=SECRET)
    assert cache.key("guardian", [PHONE]) == "mg:c:{b8659b3d0aa1c1c7ca15dd420c069a59}"
    assert cache.key("student", ["S1", PHONE]) == "mg:c:{97720ee6ee86bd9c1850f094626bf24d}"
    assert cache.student_index("S1") == "mg:c:ix:{f151534e228a10b9ecd83cf5df101e0e}"
    assert cache.key("meta", []) == "mg:c:{b94bee94fe5a656bf638679f831a8376}"
    # The single-flight lease is the cache key with `:sf` (`gateway.state.resilience.flights`).
    assert Keys.flight_lease(cache.key("meta", [])) == "mg:c:{b94bee94fe5a656bf638679f831a8376}:sf"
    assert Keys.flight_lease(cache.key("guardian", [PHONE])) == (
        "mg:c:{b8659b3d0aa1c1c7ca15dd420c069a59}:sf"
    )
    assert Keys.breaker("massar") == "mg:{breaker}:massar"
    assert Breaker(redis).key == "mg:{breaker}:massar"
    assert Breaker(redis, name="sms").key == "mg:{breaker}:sms"


def test_outbox_keys(redis: Redis) -> None:
    outbox = Outbox(redis, key_secret=SECRET)
    keys = outbox.keys
    assert keys.ns == "76253309"
    assert [keys.stream(p) for p in Priority] == [
        "mg:{outbox:76253309}:q:0",
        "mg:{outbox:76253309}:q:1",
        "mg:{outbox:76253309}:q:2",
    ]
    assert keys.delayed == "mg:{outbox:76253309}:delayed"
    assert keys.dead == "mg:{outbox:76253309}:dead"
    assert keys.idem("h1") == "mg:{outbox:76253309}:idem:h1"
    assert keys.sent("h1") == "mg:{outbox:76253309}:sent:h1"
    assert keys.lease("h1") == "mg:{outbox:76253309}:lease:h1"
    assert keys.guard("g1") == "mg:{outbox:76253309}:guard:g1"
    assert keys.bucket("sms") == "mg:{outbox:76253309}:tb:sms"
    # An operator link's pace (`gateway.outbox.paces`), named by its Kannel smsc-id.
    assert keys.link_bucket("sms", "IAM") == "mg:{outbox:76253309}:tb:sms-link:IAM"
    assert keys.sink == "mg:{outbox:76253309}:sink"
    assert SinkStream(redis, keys).key == "mg:{outbox:76253309}:sink"
    # Telegram's pace per chat (`gateway.outbox.senders.telegram`), the chat id hashed.
    chat_h = outbox.digest("42", label="telegram-chat\0")
    assert keys.chat_bucket(chat_h) == (
        "mg:{outbox:76253309}:tb:telegram-chat:2c7c986b2332dcce8a4a1d6dc12510e6"
    )
    # The alerts lease shares the outbox's namespace (`gateway.runtime`).
    assert Keys.alerts_lease(keys.ns) == "mg:{alerts:76253309}:lease"


def test_unmatched_log_key(redis: Redis) -> None:
    assert UNMATCHED_LOG == "mg:{unmatched}:log"
    assert UnmatchedLog(redis, retention_s=60).key == "mg:{unmatched}:log"


def test_helpdesk_keys(redis: Redis) -> None:
    keys = Keys(SECRET)
    assert keys.helpdesk_open == "mg:{helpdesk}:open"
    assert keys.helpdesk_by_phone(PHONE) == "mg:{helpdesk}:byphone:35c34019032ada435c3d221f2f0e23de"
    assert keys.helpdesk_item("item-1") == "mg:{helpdesk}:item:item-1"
    assert keys.helpdesk_phone(PHONE, "sms") == (
        "mg:{helpdesk}:phone:sms:35c34019032ada435c3d221f2f0e23de"
    )
    queue = HelpdeskQueue(
        redis,
        key_secret=SECRET,
        send=Outbox(redis, key_secret=SECRET).reply,
        expiry_s=1,
        hotline="x",
    )
    assert queue._phone_key(PHONE, "sms") == keys.helpdesk_phone(PHONE, "sms")


def test_console_keys(redis: Redis) -> None:
    keys = Keys(SECRET)
    sessions = ConsoleSessions(redis, key_secret=SECRET, idle_s=1, max_s=2)
    sid_h = sessions.sid_h("sid-1")
    assert keys.console_session(sid_h) == "mg:{console}:s:9fa8a762f08857ccf7596e2658f52d74"
    assert keys.console_reveals(sid_h) == ("mg:{console}:s:9fa8a762f08857ccf7596e2658f52d74:reveal")
    assert keys.console_operator("Amina ") == "mg:{console}:op:5a0bd13054125a6ae1a538caf56abfb3"
    assert keys.console_pending(sessions.sid_h("tok-1")) == (
        "mg:{console}:pending:a02011bf54257051543f12d70c5c3c21"
    )
    assert keys.console_totp("amina", 42) == (
        "mg:{console}:totp:5a0bd13054125a6ae1a538caf56abfb3:42"
    )
    gate = SigninGate(
        redis, key_secret=SECRET, limit=1, address_limit=1, lock_s=1, slow_after=1, interval_s=1
    )
    assert gate._keys("Amina ", "10.0.0.1") == [
        "mg:{console}:f:pair:5a0bd13054125a6ae1a538caf56abfb3:f78266439abf7bb14c00f3ade05672f5",
        "mg:{console}:f:addr:f78266439abf7bb14c00f3ade05672f5",
        "mg:{console}:f:name:5a0bd13054125a6ae1a538caf56abfb3",
        "mg:{console}:f:slot:5a0bd13054125a6ae1a538caf56abfb3",
    ]
    counter = CheckCounter(redis, key_secret=SECRET, limit=1, window_s=1)
    assert counter._key("Amina ") == "mg:{console}:checks:5a0bd13054125a6ae1a538caf56abfb3"
    totp = CheckCounter(redis, key_secret=SECRET, limit=1, window_s=1, what="totp")
    assert totp._key("Amina ") == "mg:{console}:totp-fails:5a0bd13054125a6ae1a538caf56abfb3"
    audit = AuditLog(sa.create_engine("sqlite://"), redis, key_secret=SECRET)
    assert Keys.console_audit_anonymous(audit._ns, 28_000_000) == (
        "mg:{console}:audit-anon:109c2c4bab28:28000000"
    )
