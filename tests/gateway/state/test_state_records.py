"""Message records on SQLite and PostgreSQL: forward-only statuses, provider callbacks, one
address's messages newest first, bodies hidden and then emptied after their retention."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from gateway.dialogs.model import Option
from gateway.state.connections import open_database
from gateway.state.migrate import upgrade
from gateway.state.outbox.records import MessageRecords, Outcome, mask_address
from tests.databases import empty_database
from tests.outbox.conftest import message

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]

KEY = b"records-test-key"
NOW = datetime(2026, 5, 20, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def records(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_url: str | None
) -> Iterator[MessageRecords]:
    with empty_database(request.param, tmp_path, postgres_url) as url:
        upgrade(url)
        engine = open_database(url)
        yield MessageRecords(engine, key_secret=KEY, retention_h=72)
        engine.dispose()


async def write(records: MessageRecords, *outcomes: Outcome) -> None:
    for outcome in outcomes:  # one batch each, as a worker's successive flushes would
        await records.write([outcome], [f"idem-{outcome.message.id}"])


async def test_a_status_moves_only_forward(records: MessageRecords) -> None:
    msg = message(options=(Option(key="0", id="menu", label="Menu"),))
    await write(
        records,
        Outcome(message=msg, status="queued", at=NOW, error="http:503"),
        Outcome(message=msg, status="sent", at=NOW, sender="twilio", provider_id="SM1"),
        Outcome(message=msg, status="queued", at=NOW),  # a late retry record: ignored
    )
    stored = await records.get(msg.id)
    assert stored is not None
    assert (stored["status"], stored["provider_id"], stored["sender"]) == ("sent", "SM1", "twilio")
    assert await records.status_callback("SM1", "delivered", None, NOW)
    assert not await records.status_callback("SM1", "sent", None, NOW)  # out of order
    assert not await records.status_callback("SM1", "delivered", None, NOW)  # repeated
    assert not await records.status_callback("SM-unknown", "delivered", None, NOW)
    assert await records.status_callback("SM1", "read", None, NOW)
    stored = await records.get(msg.id)
    assert stored is not None
    assert stored["status"] == "read"
    assert stored["sent_at"] is not None


async def test_an_address_reads_its_own_messages_newest_first(records: MessageRecords) -> None:
    older = message(1, created_at=NOW - timedelta(hours=2))
    newer = message(2, created_at=NOW - timedelta(minutes=5))
    other = message(3, to="+212600000002", created_at=NOW)
    for msg in (older, newer, other):
        await write(records, Outcome(message=msg, status="sent", at=NOW))
    items = await records.for_address("+212600000001", now=NOW)
    assert [item["id"] for item in items] == [newer.id, older.id]
    assert items[0]["to"] == "+212600000001"
    assert items[0]["created_at"].startswith("2026-05-20T08:55")


async def test_bodies_are_hidden_past_retention_and_purged(records: MessageRecords) -> None:
    old = message(1, text="Notes : 14,5", created_at=NOW - timedelta(hours=73))
    fresh = message(2, text="Absences : 2", created_at=NOW - timedelta(hours=71))
    for msg in (old, fresh):
        await write(records, Outcome(message=msg, status="sent", at=NOW))
    items = {item["id"]: item for item in await records.for_address(old.to, now=NOW)}
    assert items[old.id]["text"] is None
    assert items[fresh.id]["text"] == "Absences : 2"
    assert await records.purge_bodies(NOW) == 1
    assert await records.purge_bodies(NOW) == 0
    stored = await records.get(old.id)
    assert stored is not None
    assert (stored["text"], stored["status"]) == (None, "sent")


def test_records_hold_a_keyed_hash_and_a_masked_address() -> None:
    assert mask_address("+212600000001") == "+212*******01"
    assert mask_address("telegram:123456789") == "telegram:*******89"
    assert mask_address("12345") == "*****"


async def test_no_record_holds_the_phone_number(records: MessageRecords) -> None:
    msg = message()
    await write(records, Outcome(message=msg, status="sent", at=NOW))
    with records.engine.connect() as conn:
        row = conn.execute(sa.text("select to_h, to_masked from outbound_message")).one()
    assert "600000001" not in row.to_h
    assert row.to_masked == "+212*******01"
