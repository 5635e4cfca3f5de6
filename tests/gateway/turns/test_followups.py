"""What a slow live turn may promise by SMS, and how two promises become one
(`gateway.turns.followups`, `gateway.turns.notices`)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from gateway.dialogs import texts
from gateway.dialogs.model import ChannelKind, Inbound, Session
from gateway.turns.followups import followup_job, holds_identifiers, question_key
from gateway.turns.notices import busy_step, notice_step

AT = datetime(2026, 5, 18, 9, 30, tzinfo=UTC)


def dial(text: str, *, new: bool = False, message_id: str = "m1") -> Inbound:
    return Inbound(
        channel=ChannelKind.USSD,
        sender="+212600000001",
        text=text,
        message_id=message_id,
        new_session=new,
        received_at=AT,
    )


@pytest.mark.parametrize(
    ("text", "held"),
    [
        ("R130245678", True),  # a Massar code
        ("12/03/2014", True),  # a birth date, once the separators are gone
        ("١٢٣٤٥٦", True),  # Arabic-Indic digits count too
        ("1*2", False),
        ("ABS", False),
    ],
)
def test_input_that_may_hold_an_identifier_never_waits_in_the_outbox(text: str, held: bool) -> None:
    assert holds_identifiers(text) is held


def test_two_dials_for_the_same_menu_are_one_question() -> None:
    stale = Session(state="marks", data={"student": "stu_1"})
    first = question_key(dial("", new=True, message_id="a"), None)
    again = question_key(dial("", new=True, message_id="b"), stale)
    assert first == again
    assert json.loads(first) == ["+212600000001", "start", {}, ""]
    deeper = question_key(dial("2"), stale)
    assert deeper != first


def test_a_followup_job_carries_the_input_and_the_session_it_answered() -> None:
    session = Session(state="marks", data={"student": "stu_1"})
    job = followup_job(dial("2", new=True), session)
    assert (job["ch"], job["text"], job["new"], job["at"]) == ("ussd", "2", True, AT.timestamp())
    assert Session.model_validate_json(job["session"]) == session


def test_a_notice_speaks_the_sessions_language_and_ends_the_session() -> None:
    step = notice_step(dial(""), Session(lang="fr"), texts.TOO_MANY, "rate_limited")
    (reply,) = step.replies
    assert reply.end_session
    assert [e.kind for e in step.events] == ["rate_limited"]
    busy = busy_step(dial("مرحبا"), None)
    assert [e.kind for e in busy.events] == ["turn_over_budget"]
    assert busy.replies[0].text != reply.text
