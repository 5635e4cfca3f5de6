"""A guardian the school forbids notices to (`may_notify: false`, for every child or for one)
is never messaged about that child, nor held a message for the morning: random guardians,
shared phones, links, opt-outs and changes of every kind go through the planner, and each
message goes to a phone that one allowed guardian of the child holds, once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from backend_client.models import ChangeEvent, GuardianContact
from gateway.alerts.plan import alert_of, plan
from gateway.state.alerts.preferences import AlertPreference

NOW = datetime(2026, 5, 20, 9, 0, tzinfo=UTC)
PHONES = ["+212600000001", "+212700000001", "+212600000111", "+212600000222"]
STUDENTS = ["stu_1", "stu_2", "stu_3"]
GUARDIANS = ["gdn_1", "gdn_2", "gdn_3"]
EVENT_DATA: dict[str, tuple[str, dict[str, Any]]] = {
    "absence": (
        "absence.created",
        {
            "date": "2026-05-20",
            "start_time": "08:30",
            "end_time": "09:30",
            "hours": 1,
            "kind": "absence",
            "status": "unjustified",
        },
    ),
    "refused": (
        "absence.updated",
        {"date": "2026-05-19", "hours": 2, "kind": "absence", "status": "rejected"},
    ),
    "marks": ("semester_result.published", {"school_year": "2025-2026", "semester": 2}),
    "result": ("year_result.published", {"school_year": "2025-2026", "decision": "promoted"}),
}

contacts = st.fixed_dictionaries(
    {
        gid: st.tuples(
            st.lists(st.sampled_from(PHONES), min_size=1, max_size=2, unique=True),
            st.booleans(),  # may_notify
            st.lists(st.sampled_from(STUDENTS), max_size=3, unique=True),  # no notice about
        )
        for gid in GUARDIANS
    }
)
changes = st.lists(
    st.tuples(
        st.sampled_from(STUDENTS),
        st.sampled_from(sorted(EVENT_DATA)),
        st.lists(st.sampled_from(GUARDIANS), min_size=1, max_size=3, unique=True),
    ),
    min_size=1,
    max_size=8,
)


def contact(gid: str, phones: list[str], may: bool, silenced: list[str]) -> GuardianContact:
    return GuardianContact(
        id=gid,
        first_name_fr="G",
        first_name_ar="ج",
        preferred_lang="fr",  # type: ignore[arg-type]
        phones=tuple(phones),
        may_notify=may,
        no_notice_students=tuple(silenced),
    )


@settings(max_examples=150, deadline=None)
@given(contacts, changes, st.sets(st.sampled_from(PHONES)), st.booleans())
def test_a_guardian_who_may_not_be_told_is_never_messaged_about_that_child(
    found: dict[str, tuple[list[str], bool, list[str]]],
    events: list[tuple[str, str, list[str]]],
    opted_out: set[str],
    night: bool,
) -> None:
    book = {gid: contact(gid, *values) for gid, values in found.items()}
    prefs = {p: AlertPreference(opted_out=p in opted_out, welcomed=True) for p in PHONES}
    for n, (student, kind, gids) in enumerate(events):
        type_, data = EVENT_DATA[kind]
        event = ChangeEvent(
            id=f"evt_{n:09d}",
            type=type_,
            occurred_at=NOW,
            student_id=student,
            student_first_name_fr="Salma",
            student_first_name_ar="سلمى",
            guardian_ids=tuple(gids),
            data=data,
        )
        alert = alert_of(event)
        assert alert is not None
        hold_until = NOW.replace(hour=23) if night else None
        planned = plan([alert], book, prefs, now=NOW, hold_until=hold_until)
        allowed = {
            p
            for g in gids
            if book[g].may_notify and student not in book[g].no_notice_students
            for p in book[g].phones
        } - opted_out
        sent = [m.to for m in planned.messages]
        held = [(h.guardian_id, h.phone) for h in planned.holds]
        for gid, phone in held:
            assert book[gid].may_be_told_about(student)  # no hold for a forbidden guardian
            assert phone in allowed
        if night:
            assert sent == []
            assert {phone for _, phone in held} == allowed
        else:
            assert sorted(sent) == sorted(allowed)  # each allowed phone once, no one else
