"""The change feed, the admin mutations that feed it (outbox), and the status machine."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.sandbox.conftest import ADMIN, API, assert_problem, demo_ids, on_behalf


def head(client: TestClient) -> str:
    return client.get("/api/v1/changes/head", headers=API).json()["cursor"]


def test_feed_starts_in_the_window_and_pages(client: TestClient) -> None:
    first = client.get("/api/v1/changes", params={"limit": 5}, headers=API).json()
    assert len(first["items"]) == 5
    assert first["has_more"] is True
    event = first["items"][0]
    assert set(event) == {
        "id",
        "type",
        "occurred_at",
        "student_id",
        "student_first_name_fr",
        "student_first_name_ar",
        "guardian_ids",
        "data",
        "totals",  # absence events: the running totals (None on the seed's history)
    }
    assert event["occurred_at"] >= "2026-05-06T10:00:00+01:00"
    second = client.get(
        "/api/v1/changes", params={"limit": 5, "cursor": first["next_cursor"]}, headers=API
    ).json()
    ids_1 = [e["id"] for e in first["items"]]
    ids_2 = [e["id"] for e in second["items"]]
    assert not set(ids_1) & set(ids_2)
    assert ids_2[0] > ids_1[-1]


def test_feed_at_head_is_empty(client: TestClient) -> None:
    body = client.get("/api/v1/changes", params={"cursor": head(client)}, headers=API).json()
    assert body == {"items": [], "next_cursor": head(client), "has_more": False}


def test_recorded_absence_appears_in_feed_and_reads(client: TestClient) -> None:
    gid, kids = demo_ids(client)
    cursor = head(client)
    r = client.post(
        "/_sandbox/absences",
        json={
            "massar_code": "Z990000001",
            "date": "2026-05-20",
            "hours": 2,
            "status": "unjustified",
            "subject": "SCI",
        },
        headers=ADMIN,
    )
    assert r.status_code == 201, r.text
    absence_id = r.json()["id"]
    feed = client.get("/api/v1/changes", params={"cursor": cursor}, headers=API).json()
    assert [e["type"] for e in feed["items"]] == ["absence.created"]
    event = feed["items"][0]
    assert event["student_id"] == kids["001"]
    assert gid in event["guardian_ids"]
    assert event["data"]["absence_id"] == absence_id
    listed = client.get(
        f"/api/v1/students/{kids['001']}/absences",
        params={"from": "2026-05-20"},
        headers=on_behalf(gid),
    ).json()
    assert [a["id"] for a in listed["items"]] == [absence_id]
    patched = client.patch(
        f"/_sandbox/absences/{absence_id}",
        json={"status": "justified", "reason_code": "medical"},
        headers=ADMIN,
    )
    assert patched.json()["status"] == "justified"
    feed = client.get("/api/v1/changes", params={"cursor": feed["next_cursor"]}, headers=API).json()
    assert [(e["type"], e["data"]["status"]) for e in feed["items"]] == [
        ("absence.updated", "justified")
    ]


def test_types_filter(client: TestClient) -> None:
    cursor = head(client)
    client.post(
        "/_sandbox/absences",
        json={"massar_code": "Z990000003", "date": "2026-05-20"},
        headers=ADMIN,
    )
    client.post(
        "/_sandbox/enrolment-applications/PRE-2026-0000001/status",
        json={"status": "approved"},
        headers=ADMIN,
    )
    feed = client.get(
        "/api/v1/changes",
        params={"cursor": cursor, "types": "enrolment.status_changed"},
        headers=API,
    ).json()
    assert [e["type"] for e in feed["items"]] == ["enrolment.status_changed"]
    assert feed["items"][0]["data"]["to"] == "approved"


def test_publishing_semester_two_makes_grades_readable_and_emits_events(client: TestClient) -> None:
    gid, kids = demo_ids(client)
    url = f"/api/v1/students/{kids['001']}/grades"
    params = {"school_year": "2025-2026", "semester": 2}
    assert client.get(url, params=params, headers=on_behalf(gid)).status_code == 404
    cursor = head(client)
    r = client.post(
        "/_sandbox/grades/publish",
        json={
            "school_year": "2025-2026",
            "semester": 2,
            "massar_code": "Z990000001",
            "scope": "class",
        },
        headers=ADMIN,
    )
    assert r.status_code == 200, r.text
    assert r.json()["published"] >= 1
    grades = client.get(url, params=params, headers=on_behalf(gid))
    assert grades.status_code == 200
    assert grades.json()["published_at"] == "2026-05-20T10:00:00+01:00"
    assert grades.json()["subjects"]
    assert grades.json()["subjects"][0]["class_avg"] is not None
    feed = client.get(
        "/api/v1/changes", params={"cursor": cursor, "limit": 200}, headers=API
    ).json()
    mine = [e["type"] for e in feed["items"] if e["student_id"] == kids["001"]]
    assert mine == ["grade.published", "semester_result.published"]
    again = client.post(
        "/_sandbox/grades/publish",
        json={"school_year": "2025-2026", "semester": 2, "massar_code": "Z990000001"},
        headers=ADMIN,
    )
    assert again.json()["published"] == 0
    assert again.json()["already_published"] == 1


def test_application_status_machine(client: TestClient) -> None:
    move = "/_sandbox/enrolment-applications/PRE-2026-0000002/status"
    assert_problem(
        client.post(move, json={"status": "submitted"}, headers=ADMIN), 409, "invalid-transition"
    )
    r = client.post(move, json={"status": "enrolled"}, headers=ADMIN)
    assert r.status_code == 200
    assert r.json()["status"] == "enrolled"
    assert r.json()["history"][-1]["to"] == "enrolled"
    assert_problem(
        client.post(move, json={"status": "approved"}, headers=ADMIN), 409, "invalid-transition"
    )
    reject = "/_sandbox/enrolment-applications/PRE-2026-0000001/status"
    assert_problem(
        client.post(reject, json={"status": "rejected"}, headers=ADMIN), 400, "invalid-request"
    )
    r = client.post(reject, json={"status": "rejected", "reason": "age_not_met"}, headers=ADMIN)
    assert r.json()["rejection_reason"] == "age_not_met"
    assert_problem(
        client.post(
            "/_sandbox/enrolment-applications/PRE-2026-0009999/status",
            json={"status": "approved"},
            headers=ADMIN,
        ),
        404,
        "application-not-found",
    )


def test_old_cursor_is_410_after_the_clock_moves(client: TestClient) -> None:
    start = client.get("/api/v1/changes", params={"limit": 1}, headers=API).json()["next_cursor"]
    client.post("/_sandbox/clock", json={"advance_seconds": 20 * 86400}, headers=ADMIN)
    client.post(
        "/_sandbox/absences",
        json={"massar_code": "Z990000002", "date": "2026-06-09"},
        headers=ADMIN,
    )
    assert_problem(
        client.get("/api/v1/changes", params={"cursor": start}, headers=API), 410, "cursor-expired"
    )
    fresh = client.get("/api/v1/changes", headers=API).json()
    assert [e["type"] for e in fresh["items"]] == ["absence.created"]


def test_generate_events_moves_the_feed(client: TestClient) -> None:
    before = head(client)
    r = client.post("/_sandbox/events/generate", json={"absences": 3}, headers=ADMIN)
    assert r.json() == {"absences": 3, "events": 3}
    assert int(head(client)[2:]) == int(before[2:]) + 3


def test_admin_needs_the_admin_token(client: TestClient) -> None:
    assert_problem(client.get("/_sandbox/chaos", headers=API), 401, "unauthorized")
    assert_problem(client.post("/_sandbox/clock", json={"advance_seconds": 1}), 401, "unauthorized")


def test_clock_moves_meta(client: TestClient) -> None:
    r = client.post("/_sandbox/clock", json={"now": "2025-09-10T08:00:00+01:00"}, headers=ADMIN)
    assert r.json() == {
        "now": "2025-09-10T08:00:00+01:00",
        "school_year": "2025-2026",
        "semester": 1,
    }
    assert client.get("/api/v1/meta", headers=API).json()["now"] == "2025-09-10T08:00:00+01:00"


def test_stats_count_calls_per_route_template_and_reset(client: TestClient) -> None:
    client.delete("/_sandbox/stats", headers=ADMIN)
    gid, kids = demo_ids(client)
    for _ in range(3):
        client.get(f"/api/v1/students/{kids['001']}/grades", headers=on_behalf(gid))
    client.get("/api/v1/students/stu_0000000000/grades", headers=on_behalf(gid))
    stats = client.get("/_sandbox/stats", headers=ADMIN).json()
    assert stats["routes"]["GET /api/v1/students/{sid}/grades"] == {"200": 3, "404": 1}
    assert stats["routes"]["POST /api/v1/guardians/lookup"] == {"200": 1}
    assert stats["total"] == 5
    assert client.delete("/_sandbox/stats", headers=ADMIN).json()["total"] == 0
