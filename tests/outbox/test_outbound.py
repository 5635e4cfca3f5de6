"""One function builds an outbound message: its id, priority and fields."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gateway.dialogs.model import Option
from gateway.outbox.model import MessageKind, OutChannel, outbound
from gateway.state.outbox.priority import Priority

NOW = datetime(2026, 5, 18, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("kind", "priority"),
    [
        (MessageKind.REPLY, Priority.INTERACTIVE),
        (MessageKind.FOLLOWUP, Priority.FOLLOWUP),
        (MessageKind.ALERT, Priority.BULK),
    ],
)
def test_each_kind_takes_its_place_in_the_queue(kind: MessageKind, priority: Priority) -> None:
    msg = outbound(kind, key="k", channel=OutChannel.SMS, to="+212600000001", text="t", now=NOW)
    assert (msg.kind, msg.priority, msg.created_at, msg.attempt) == (kind, priority, NOW, 0)


def test_every_message_gets_a_fresh_id_unless_it_has_one() -> None:
    made = [
        outbound(MessageKind.REPLY, key="k", channel=OutChannel.SMS, to="+1", text="", now=NOW)
        for _ in range(2)
    ]
    assert made[0].id != made[1].id
    assert all(len(m.id) == 32 and int(m.id, 16) >= 0 for m in made)
    kept = outbound(
        MessageKind.REPLY, key="", channel=OutChannel.WHATSAPP, to="+1", text="", now=NOW,
        message_id="abc",
    )  # fmt: skip
    assert kept.id == "abc"


def test_every_field_given_is_kept() -> None:
    options = (Option(key="1", id="abs", label="Absences"),)
    msg = outbound(
        MessageKind.REPLY,
        key="reply:kannel:7",
        channel=OutChannel.SMS,
        to="+212600000001",
        text="Bonjour",
        now=NOW,
        options=options,
        sender_id="3636",
        route="iam",
        student="stu_1",
    )
    assert (msg.key, msg.channel, msg.to, msg.text, msg.options) == (
        "reply:kannel:7",
        OutChannel.SMS,
        "+212600000001",
        "Bonjour",
        options,
    )
    assert (msg.sender_id, msg.route, msg.student) == ("3636", "iam", "stu_1")
