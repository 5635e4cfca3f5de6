"""What the outbox keeps for Kannel: a reply's origin (short code, operator link) survives the
stream, and a delivery report naming our own message id moves its record forward only."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from gateway.outbox.entries import decode, encode
from gateway.state.outbox.records import Outcome
from tests.outbox.conftest import Rig, message

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("sender_id", "route"),
    [("2020", "IAM"), ("+212522000000", None), (None, "INWI"), (None, None)],
)
def test_a_messages_origin_survives_the_stream(sender_id: str | None, route: str | None) -> None:
    msg = replace(message(), sender_id=sender_id, route=route)
    entry = decode("q", "1-0", {"m": encode(msg)})
    assert entry.message == replace(msg, created_at=entry.message.created_at)
    assert (entry.message.sender_id, entry.message.route) == (sender_id, route)


def test_an_entry_written_before_origins_existed_still_reads() -> None:
    msg = message()
    doc = encode(msg)
    assert '"from"' not in doc
    assert '"via"' not in doc
    assert decode("q", "1-0", {"m": doc}).message.sender_id is None


@pytest.mark.redis
async def test_a_report_by_our_own_id_moves_the_record_forward_only(rig: Rig) -> None:
    msg = message()
    now = datetime.now(UTC)
    records = rig.records
    assert await records.own_status(msg.id, "delivered", None, now) is None  # not recorded yet
    await records.write([Outcome(message=msg, status="sent", at=now)], ["h"])
    assert await records.own_status(msg.id, "sent", None, now) is False  # already there
    assert await records.own_status(msg.id, "delivered", None, now + timedelta(seconds=1))
    assert await records.own_status(msg.id, "failed", "kannel:dlr:2", now) is False
    assert await records.own_status(msg.id, "sent", None, now) is False
    record = await records.get(msg.id)
    assert record is not None
    assert (record["status"], record["error"]) == ("delivered", None)


@pytest.mark.redis
async def test_a_failure_report_records_its_code(rig: Rig) -> None:
    msg = message()
    now = datetime.now(UTC)
    await rig.records.write([Outcome(message=msg, status="sent", at=now)], ["h"])
    assert await rig.records.own_status(msg.id, "failed", "kannel:dlr:16", now)
    record = await rig.records.get(msg.id)
    assert record is not None
    assert (record["status"], record["error"]) == ("failed", "kannel:dlr:16")
