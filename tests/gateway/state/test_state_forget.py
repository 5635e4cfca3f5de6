"""`gateway.state.forget`: one phone's rows (and its Telegram chat's) erased in one transaction
on SQLite and PostgreSQL, every Redis key under its hash tag deleted; another phone's stay."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from redis.asyncio import Redis

from gateway.dialogs.model import ChannelKind, Session
from gateway.state.connections import open_database
from gateway.state.forget import forget_keys, forget_rows
from gateway.state.keys import Keys
from gateway.state.migrate import upgrade
from gateway.state.schema import (
    address_h,
    alert_held,
    alert_preference,
    outbound_message,
    phone_binding,
    telegram_link,
)
from gateway.state.store import SessionStore
from tests.databases import empty_database

pytestmark = [pytest.mark.anyio, pytest.mark.postgres, pytest.mark.redis]

KEY = b"forget-test-key"
PHONE, OTHER, CHAT = "+212600000001", "+212600000002", "telegram:4242"
NOW = datetime(2026, 5, 20, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_url: str | None
) -> Iterator[sa.Engine]:
    with empty_database(request.param, tmp_path, postgres_url) as url:
        upgrade(url)
        engine = open_database(url)
        yield engine
        engine.dispose()


def rows_of(engine: sa.Engine, address: str, n: int) -> None:
    """A binding, a preference, a held alert and a message with its text, for `address`."""
    h = address_h(KEY, address)
    with engine.begin() as conn:
        conn.execute(sa.insert(phone_binding).values(phone_h=h, student_id="S1", bound_at=NOW))
        conn.execute(
            sa.insert(alert_preference).values(
                phone_h=h, opted_out=False, digest=False, updated_at=NOW
            )
        )
        conn.execute(
            sa.insert(alert_held).values(
                event_id=f"e{n}",
                seq=n,
                guardian_id="g1",
                phone_h=h,
                kind="absence",
                payload="{}",
                release_at=NOW,
                created_at=NOW,
            )
        )
        conn.execute(
            sa.insert(outbound_message).values(
                id=f"m{n}",
                idem_h=f"i{n}",
                channel="sms",
                to_h=h,
                to_masked="+212*******01",
                kind="reply",
                priority=0,
                status="sent",
                status_rank=1,
                text="Notes : 14,5",
                created_at=NOW,
                updated_at=NOW,
            )
        )


async def test_one_phones_rows_go_and_anothers_stay(engine: sa.Engine) -> None:
    rows_of(engine, PHONE, 1)
    rows_of(engine, OTHER, 2)
    chat_h = address_h(KEY, CHAT)
    with engine.begin() as conn:
        conn.execute(sa.insert(telegram_link).values(chat_h=chat_h, phone_box="x", linked_at=NOW))
        conn.execute(
            sa.insert(outbound_message).values(
                id="m3",
                idem_h="i3",
                channel="telegram",
                to_h=chat_h,
                to_masked="telegram:**42",
                kind="reply",
                priority=0,
                status="sent",
                status_rank=1,
                text="Absences : 2",
                options='[{"id": "menu"}]',
                created_at=NOW,
                updated_at=NOW,
            )
        )
    counts = await forget_rows(engine, KEY, PHONE, CHAT)
    assert counts == {
        "bindings": 1,
        "preferences": 1,
        "held_alerts": 1,
        "message_texts": 2,  # the phone's and its chat's
        "telegram_links": 1,
    }
    with engine.connect() as conn:
        texts = dict(conn.execute(sa.select(outbound_message.c.id, outbound_message.c.text)).all())
        assert texts == {"m1": None, "m2": "Notes : 14,5", "m3": None}  # the records stay
        assert conn.execute(sa.select(sa.func.count()).select_from(phone_binding)).scalar() == 1
        assert conn.execute(sa.select(sa.func.count()).select_from(telegram_link)).scalar() == 0
    again = await forget_rows(engine, KEY, PHONE, None)
    assert set(again.values()) == {0}


async def test_every_key_under_the_phones_tag_goes(
    redis: Redis, key_secret: bytes, prefix: str
) -> None:
    sessions = SessionStore(redis, key_secret=key_secret, prefix=prefix)
    keys = Keys(key_secret, prefix=prefix)
    for channel in (ChannelKind.USSD, ChannelKind.SMS):
        await sessions.save(channel, PHONE, Session(state="menu"))
    await sessions.save(ChannelKind.SMS, OTHER, Session(state="menu"))
    elsewhere = f"{prefix}:c:{{elsewhere}}"  # a key named besides (the cached lookup)
    await redis.set(elsewhere, "1")
    assert await forget_keys(redis, keys, PHONE, also=[elsewhere]) == 3
    assert await sessions.load(ChannelKind.USSD, PHONE) is None
    assert await sessions.load(ChannelKind.SMS, OTHER) is not None
    assert await forget_keys(redis, keys, PHONE) == 0
