"""Each client method sends the request of §8 and parses its reply."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, time
from typing import Any

import httpx
import pytest
from backend_fakes import BASE_URL, TOKEN, ScriptedBackend, example

from backend_client import (
    AbsenceKind,
    AbsenceStatus,
    ApplicationStatus,
    AssessmentKind,
    ChangeType,
    Decision,
    MassarClient,
    Mention,
    RejectionReason,
    Relation,
)

pytestmark = pytest.mark.anyio

GID = "gdn_01HZX3K9"
SID = "stu_01HZX3M2"

# Replies for routes the contract gives no example of (ours, shaped by its conventions).
STUDENT = {
    "id": SID,
    "first_name_fr": "Youssef",
    "first_name_ar": "يوسف",
    "massar_code_masked": "Z99****123",
    "level": {"code": "1AC", "name_fr": "1ère année collège", "name_ar": "السنة الأولى إعدادي"},
    "class_label": "1AC-2",
    "school": {"name_fr": "Collège Al Massira", "name_ar": "الثانوية الإعدادية المسيرة"},
}
APPLICATION_SUMMARY = {
    "id": "app_0000000001",
    "number": "PRE-2026-0001234",
    "kind": "first_grade",
    "school_year": "2026-2027",
    "status": "waitlisted",
    "child_first_name_fr": "Ilyas",
    "child_first_name_ar": "إلياس",
    "rejection_reason": None,
    "waitlist_position": 4,
    "requested_school": {"name_fr": "École Ibn Khaldoun", "name_ar": "مدرسة ابن خلدون"},
    "assigned_school": None,
    "submitted_at": "2026-04-03T21:14:00+01:00",
    "decided_at": None,
}
RESULTS = {
    "student_id": SID,
    "school_year": "2024-2025",
    "average": 12.4,
    "decision": "oriented",
    "orientation": {"stream": "TCS"},
    "published_at": "2025-07-01T18:00:00+01:00",
}


@dataclass(frozen=True)
class Case:
    """One route: how to call it, what must go out, and the reply it gets."""

    call: Callable[[MassarClient], Awaitable[Any]]
    method: str
    path: str
    reply: Any
    params: dict[str, str]
    body: dict[str, Any] | None = None
    on_behalf_of: str | None = None


CASES = {
    "lookup_guardian": Case(
        lambda c: c.lookup_guardian("+212600000001"),
        "POST",
        "/guardians/lookup",
        example("guardian_lookup"),
        {},
        body={"phone": "+212600000001"},
    ),
    "verify_student": Case(
        lambda c: c.verify_student("Z990000001", date(2012, 3, 4), "+212600000001"),
        "POST",
        "/students/verify",
        {"match": True, "student_id": SID},
        {},
        body={"massar_code": "Z990000001", "birth_date": "2012-03-04", "phone": "+212600000001"},
    ),
    "guardian_students": Case(
        lambda c: c.guardian_students(GID),
        "GET",
        f"/guardians/{GID}/students",
        {"items": example("guardian_lookup")["students"], "next_cursor": None},
        {},
    ),
    "student": Case(
        lambda c: c.student(SID, on_behalf_of=GID),
        "GET",
        f"/students/{SID}",
        STUDENT,
        {},
        on_behalf_of=GID,
    ),
    "grades": Case(
        lambda c: c.grades(SID, "2025-2026", 1, on_behalf_of=GID),
        "GET",
        f"/students/{SID}/grades",
        example("grades"),
        {"school_year": "2025-2026", "semester": "1"},
        on_behalf_of=GID,
    ),
    "absences": Case(
        lambda c: c.absences(
            SID,
            on_behalf_of=GID,
            date_from=date(2025, 11, 1),
            date_to=date(2025, 11, 30),
            status=AbsenceStatus.UNJUSTIFIED,
            kind=AbsenceKind.ABSENCE,
            limit=20,
            cursor="abc",
        ),
        "GET",
        f"/students/{SID}/absences",
        example("absences"),
        {
            "from": "2025-11-01",
            "to": "2025-11-30",
            "status": "unjustified",
            "kind": "absence",
            "limit": "20",
            "cursor": "abc",
        },
        on_behalf_of=GID,
    ),
    "results": Case(
        lambda c: c.results(SID, "2024-2025", on_behalf_of=GID),
        "GET",
        f"/students/{SID}/results",
        RESULTS,
        {"school_year": "2024-2025"},
        on_behalf_of=GID,
    ),
    "guardian_applications": Case(
        lambda c: c.guardian_applications(GID),
        "GET",
        f"/guardians/{GID}/enrolment-applications",
        {"items": [APPLICATION_SUMMARY], "next_cursor": None},
        {},
        on_behalf_of=GID,
    ),
    "student_applications": Case(
        lambda c: c.student_applications(SID, on_behalf_of=GID),
        "GET",
        f"/students/{SID}/enrolment-applications",
        {"items": [], "next_cursor": None},
        {},
        on_behalf_of=GID,
    ),
    "lookup_application": Case(
        lambda c: c.lookup_application("PRE-2026-0001234", date(2020, 6, 1)),
        "POST",
        "/enrolment-applications/lookup",
        example("enrolment_application"),
        {},
        body={"number": "PRE-2026-0001234", "child_birth_date": "2020-06-01"},
    ),
    "changes": Case(
        lambda c: c.changes(
            cursor="c_000000120",
            limit=100,
            types=[ChangeType.ABSENCE_CREATED, ChangeType.GRADE_PUBLISHED],
        ),
        "GET",
        "/changes",
        example("changes"),
        {"cursor": "c_000000120", "limit": "100", "types": "absence.created,grade.published"},
    ),
    "changes_head": Case(
        lambda c: c.changes_head(), "GET", "/changes/head", {"cursor": "c_000000121"}, {}
    ),
    "health": Case(lambda c: c.health(), "GET", "/health", {"status": "ok"}, {}),
    "meta": Case(
        lambda c: c.meta(),
        "GET",
        "/meta",
        {"school_year": "2025-2026", "semester": 1, "now": "2025-11-20T10:00:00+01:00"},
        {},
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
async def test_each_method_sends_the_contract_request(
    name: str, client: MassarClient, backend: ScriptedBackend
) -> None:
    case = CASES[name]
    backend.script(httpx.Response(200, json=case.reply))

    await case.call(client)

    sent = backend.last
    assert sent.method == case.method
    assert sent.url.path == "/api/v1" + case.path
    assert dict(sent.url.params) == case.params
    assert sent.headers["Authorization"] == f"Bearer {TOKEN}"
    assert sent.headers["Accept"] == "application/json"
    assert sent.headers["X-Request-ID"]
    assert sent.headers.get("X-On-Behalf-Of") == case.on_behalf_of
    if case.body is None:
        assert sent.content == b""
    else:
        assert json.loads(sent.content) == case.body


async def test_phone_travels_in_the_body_never_in_the_url(
    client: MassarClient, backend: ScriptedBackend
) -> None:
    backend.script(httpx.Response(200, json=example("guardian_lookup")))
    await client.lookup_guardian("+212600000001")
    assert "212600000001" not in str(backend.last.url)


async def test_caller_request_id_is_sent(client: MassarClient, backend: ScriptedBackend) -> None:
    backend.script(httpx.Response(200, json={"status": "ok"}))
    await client.health(request_id="req_turn_42")
    assert backend.last.headers["X-Request-ID"] == "req_turn_42"


async def test_guardian_lookup_parses_the_contract_example(
    client: MassarClient, backend: ScriptedBackend
) -> None:
    backend.script(httpx.Response(200, json=example("guardian_lookup")))
    found = await client.lookup_guardian("+212600000001")
    assert found.guardian.id == GID
    assert found.guardian.preferred_lang == "ar"
    (child,) = found.students
    assert child.relation is Relation.MOTHER
    assert child.level.code == "1AC"
    assert child.class_label == "1AC-2"
    assert child.school.name_fr == "Collège Al Massira"
    assert child.massar_code_masked == "Z99****123"


async def test_grades_parse_the_contract_example(
    client: MassarClient, backend: ScriptedBackend
) -> None:
    backend.script(httpx.Response(200, json=example("grades")))
    grades = await client.grades(SID, "2025-2026", 1, on_behalf_of=GID)
    math, french = grades.subjects
    assert grades.semester == 1
    assert grades.semester_average == 13.87
    assert grades.mention is Mention.ASSEZ_BIEN
    assert grades.published_at.utcoffset() is not None
    assert [a.kind for a in math.assessments] == [
        AssessmentKind.DEVOIR,
        AssessmentKind.DEVOIR,
        AssessmentKind.ACTIVITES,
    ]
    assert math.assessments[0].held_on == date(2025, 10, 21)
    assert math.assessments[2].held_on is None
    assert (math.average, math.class_avg, math.class_min, math.class_max) == (
        14.69,
        11.2,
        4.5,
        18.25,
    )
    assert french.assessments[0].absent is True
    assert french.assessments[0].score is None
    assert french.average is None


async def test_absences_parse_the_contract_example(
    client: MassarClient, backend: ScriptedBackend
) -> None:
    backend.script(httpx.Response(200, json=example("absences")))
    page = await client.absences(SID, on_behalf_of=GID)
    first, second = page.items
    assert first.start_time == time(8, 30)
    assert first.subject is not None
    assert first.subject.code == "SVT"
    assert first.status is AbsenceStatus.UNJUSTIFIED
    assert second.subject is None
    assert second.kind is AbsenceKind.LATE
    assert second.reason_code == "medical"
    assert page.totals.unjustified_hours == 2
    assert page.totals.late_count == 1
    assert page.next_cursor is None


async def test_application_parses_the_contract_example(
    client: MassarClient, backend: ScriptedBackend
) -> None:
    backend.script(httpx.Response(200, json=example("enrolment_application")))
    app = await client.lookup_application("PRE-2026-0001234", date(2020, 6, 1))
    assert app.status is ApplicationStatus.REJECTED
    assert app.rejection_reason is RejectionReason.OUTSIDE_CATCHMENT
    assert app.requested_school is not None
    assert [step.to for step in app.history] == ["submitted", "under_review", "rejected"]
    assert app.history[-1].reason == "outside_catchment"


async def test_changes_parse_the_contract_example(
    client: MassarClient, backend: ScriptedBackend
) -> None:
    backend.script(httpx.Response(200, json=example("changes")))
    page = await client.changes(cursor="c_000000120")
    (event,) = page.items
    assert event.type is ChangeType.ABSENCE_CREATED
    assert event.guardian_ids == (GID,)
    assert event.data["absence_id"] == "abs_01J0A1"
    assert page.next_cursor == "c_000000121"
    assert page.has_more is False


async def test_application_lists_parse_summaries(
    client: MassarClient, backend: ScriptedBackend
) -> None:
    backend.script(httpx.Response(200, json={"items": [APPLICATION_SUMMARY], "next_cursor": None}))
    (listed,) = await client.guardian_applications(GID)
    assert listed.status is ApplicationStatus.WAITLISTED
    assert listed.waitlist_position == 4
    assert listed.decided_at is None


async def test_new_change_types_do_not_break_the_feed(
    client: MassarClient, backend: ScriptedBackend
) -> None:
    reply = example("changes")
    reply["items"].append(reply["items"][0] | {"id": "evt_000000122", "type": "homework.added"})
    backend.script(httpx.Response(200, json=reply))
    page = await client.changes(cursor="c_000000120")
    assert [e.type for e in page.items] == [ChangeType.ABSENCE_CREATED, "homework.added"]


async def test_year_result_parses_decision_and_orientation(
    client: MassarClient, backend: ScriptedBackend
) -> None:
    backend.script(httpx.Response(200, json=RESULTS))
    result = await client.results(SID, "2024-2025", on_behalf_of=GID)
    assert result.decision is Decision.ORIENTED
    assert result.orientation is not None
    assert result.orientation.stream == "TCS"


async def test_unknown_fields_are_ignored(client: MassarClient, backend: ScriptedBackend) -> None:
    reply = example("guardian_lookup")
    reply["added_in_v1_1"] = {"anything": 1}
    reply["guardian"]["last_name_fr"] = "Alaoui"
    backend.script(httpx.Response(200, json=reply))
    found = await client.lookup_guardian("+212600000001")
    assert not hasattr(found.guardian, "last_name_fr")


async def test_models_are_frozen(client: MassarClient, backend: ScriptedBackend) -> None:
    backend.script(httpx.Response(200, json=example("guardian_lookup")))
    found = await client.lookup_guardian("+212600000001")
    with pytest.raises(ValueError, match="frozen"):
        found.guardian.id = "gdn_other"  # type: ignore[misc]


async def test_absence_pages_follow_cursors(client: MassarClient, backend: ScriptedBackend) -> None:
    first = example("absences") | {"next_cursor": "p2"}
    second = example("absences") | {"items": [], "next_cursor": None}
    backend.script(httpx.Response(200, json=first), httpx.Response(200, json=second))

    pages = [page async for page in client.iter_absence_pages(SID, on_behalf_of=GID, limit=2)]

    assert [len(p.items) for p in pages] == [2, 0]
    assert [r.url.params.get("cursor") for r in backend.requests] == [None, "p2"]
    assert all(r.url.params["limit"] == "2" for r in backend.requests)


async def test_ids_cannot_add_path_segments(client: MassarClient, backend: ScriptedBackend) -> None:
    with pytest.raises(ValueError, match="path segment"):
        await client.student("../guardians/gdn_x", on_behalf_of=GID)
    assert backend.requests == []


async def test_injected_http_client_is_left_open(backend: ScriptedBackend) -> None:
    async with httpx.AsyncClient(transport=httpx.MockTransport(backend)) as http:
        async with MassarClient(BASE_URL, TOKEN, http=http):
            pass
        assert not http.is_closed


def test_repr_hides_the_token() -> None:
    client = MassarClient(BASE_URL, TOKEN, http=httpx.AsyncClient())
    assert TOKEN not in repr(client)
