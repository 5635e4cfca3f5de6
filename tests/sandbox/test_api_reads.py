"""Happy paths of every /api/v1 route with the demo accounts (field names as DOMAIN §8)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.sandbox.conftest import API, demo_ids, lookup, on_behalf


def test_guardian_lookup_returns_guardian_and_both_children(client: TestClient) -> None:
    body = lookup(client)
    assert set(body) == {"guardian", "students"}
    assert set(body["guardian"]) == {"id", "first_name_fr", "first_name_ar", "preferred_lang"}
    assert body["guardian"]["id"].startswith("gdn_")
    codes = sorted(s["massar_code_masked"] for s in body["students"])
    assert codes == ["Z99****001", "Z99****002"]
    student = body["students"][0]
    assert set(student) == {
        "id",
        "first_name_fr",
        "first_name_ar",
        "relation",
        "level",
        "class_label",
        "school",
        "massar_code_masked",
    }
    assert student["id"].startswith("stu_")
    assert "Z99" not in student["id"]
    assert set(student["level"]) == {"code", "name_fr", "name_ar"}
    assert set(student["school"]) == {"name_fr", "name_ar"}


def test_guardian_lookup_accepts_local_and_international_forms(client: TestClient) -> None:
    expected = lookup(client)["guardian"]["id"]
    for phone in ("0600000001", "00212600000001", "212600000001", "+212 600-000-001"):
        assert lookup(client, phone)["guardian"]["id"] == expected


def test_guardian_without_students_gets_empty_list(client: TestClient) -> None:
    body = lookup(client, "+212600000099")
    assert body["students"] == []


def test_second_demo_guardian_has_the_college_child(client: TestClient) -> None:
    body = lookup(client, "+212600000002")
    assert [s["massar_code_masked"] for s in body["students"]] == ["Z99****003"]
    assert body["students"][0]["level"]["code"] == "2AC"


def test_guardian_students_lists_children_with_class(client: TestClient) -> None:
    gid, _ = demo_ids(client)
    r = client.get(f"/api/v1/guardians/{gid}/students", headers=API)
    assert r.status_code == 200
    labels = sorted(s["class_label"] for s in r.json()["items"])
    assert labels == ["2AP-1", "2BAC-PCF-1"]
    assert r.json()["next_cursor"] is None


def test_student_profile_is_minimal(client: TestClient) -> None:
    gid, kids = demo_ids(client)
    r = client.get(f"/api/v1/students/{kids['002']}", headers=on_behalf(gid))
    assert r.status_code == 200
    body = r.json()
    assert body["level"]["code"] == "2BAC-PC"
    assert body["school_year"] == "2025-2026"
    assert "birth_date" not in body
    assert "massar_code" not in body
    assert r.headers["cache-control"] == "private, max-age=3600"


def test_grades_follow_the_75_25_rule_and_carry_cache_hints(client: TestClient) -> None:
    gid, kids = demo_ids(client)
    r = client.get(
        f"/api/v1/students/{kids['001']}/grades",
        params={"school_year": "2025-2026", "semester": 1},
        headers=on_behalf(gid),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert {
        "student_id",
        "school_year",
        "semester",
        "published_at",
        "subjects",
        "semester_average",
        "mention",
    } <= set(body)
    assert body["published_at"] == "2026-02-03T18:00:00+01:00"
    assert r.headers["cache-control"] == "private, max-age=900"
    assert r.headers["etag"]
    for subject in body["subjects"]:
        assert {
            "code",
            "name_fr",
            "name_ar",
            "coefficient",
            "assessments",
            "average",
            "class_avg",
            "class_min",
            "class_max",
        } <= set(subject)
        tests = [
            a["score"]
            for a in subject["assessments"]
            if a["kind"] == "devoir" and a["score"] is not None
        ]
        acts = [a["score"] for a in subject["assessments"] if a["kind"] == "activites"]
        if tests and subject["average"] is not None:
            w = 0.6 if subject["code"] == "EN" else 0.75
            assert (
                abs(subject["average"] - (w * sum(tests) / len(tests) + (1 - w) * acts[0])) < 0.011
            )
        assert all(a["max_score"] == 20 for a in subject["assessments"])
    total = sum(
        s["average"] * s["coefficient"] for s in body["subjects"] if s["average"] is not None
    )
    weight = sum(s["coefficient"] for s in body["subjects"] if s["average"] is not None)
    assert abs(body["semester_average"] - total / weight) < 0.011


def test_grades_etag_gives_304(client: TestClient) -> None:
    gid, kids = demo_ids(client)
    url = f"/api/v1/students/{kids['001']}/grades"
    first = client.get(url, headers=on_behalf(gid))
    again = client.get(url, headers={**on_behalf(gid), "If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.headers["etag"] == first.headers["etag"]


def test_semester_two_is_not_published_yet(client: TestClient) -> None:
    gid, kids = demo_ids(client)
    r = client.get(
        f"/api/v1/students/{kids['001']}/grades",
        params={"school_year": "2025-2026", "semester": 2},
        headers=on_behalf(gid),
    )
    assert r.status_code == 404
    assert r.json()["code"] == "not-published"


def test_absences_include_recent_unjustified_ones_and_totals(client: TestClient) -> None:
    gid, kids = demo_ids(client)
    r = client.get(
        f"/api/v1/students/{kids['001']}/absences",
        params={"from": "2026-05-06", "to": "2026-05-20"},
        headers=on_behalf(gid),
    )
    assert r.status_code == 200
    body = r.json()
    assert [a["date"] for a in body["items"]] == ["2026-05-18", "2026-05-12"]
    assert {a["status"] for a in body["items"]} == {"unjustified"}
    assert body["totals"] == {
        "unjustified_hours": 3,
        "justified_hours": 0,
        "late_count": 0,
        "unjustified_count": 2,
    }
    item = body["items"][0]
    assert set(item) == {
        "id",
        "date",
        "start_time",
        "end_time",
        "hours",
        "subject",
        "kind",
        "status",
        "reason_code",
        "recorded_at",
    }
    assert item["id"].startswith("abs_")
    assert r.headers["cache-control"] == "private, max-age=300"


def test_absences_page_by_cursor_without_overlap(client: TestClient) -> None:
    gid, kids = demo_ids(client)
    url = f"/api/v1/students/{kids['002']}/absences"
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        params = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        body = client.get(url, params=params, headers=on_behalf(gid)).json()
        seen += [a["id"] for a in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    full = client.get(url, params={"limit": 200}, headers=on_behalf(gid)).json()
    assert seen == [a["id"] for a in full["items"]]
    assert len(seen) == 4


def test_absences_filter_by_kind_and_status(client: TestClient) -> None:
    gid, kids = demo_ids(client)
    url = f"/api/v1/students/{kids['002']}/absences"
    late = client.get(url, params={"kind": "late"}, headers=on_behalf(gid)).json()
    assert [a["kind"] for a in late["items"]] == ["late"]
    rejected = client.get(url, params={"status": "rejected"}, headers=on_behalf(gid)).json()
    assert [a["date"] for a in rejected["items"]] == ["2026-02-16"]


def test_results_default_to_last_published_year(client: TestClient) -> None:
    gid, kids = demo_ids(client)
    r = client.get(f"/api/v1/students/{kids['002']}/results", headers=on_behalf(gid))
    assert r.status_code == 200
    body = r.json()
    assert body["school_year"] == "2024-2025"
    assert body["decision"] in {"promoted", "oriented"}
    assert [s["semester"] for s in body["semesters"]] == [1, 2]
    current = client.get(
        f"/api/v1/students/{kids['002']}/results",
        params={"school_year": "2025-2026"},
        headers=on_behalf(gid),
    )
    assert current.status_code == 404
    assert current.json()["code"] == "not-published"


def test_guardian_enrolment_applications(client: TestClient) -> None:
    gid, _ = demo_ids(client)
    r = client.get(f"/api/v1/guardians/{gid}/enrolment-applications", headers=on_behalf(gid))
    assert r.status_code == 200
    items = r.json()["items"]
    assert [(a["number"], a["status"]) for a in items] == [("PRE-2026-0000001", "under_review")]
    assert items[0]["id"].startswith("app_")


def test_student_enrolment_applications_is_a_list(client: TestClient) -> None:
    gid, kids = demo_ids(client)
    r = client.get(f"/api/v1/students/{kids['001']}/enrolment-applications", headers=on_behalf(gid))
    assert r.status_code == 200
    assert r.json() == {"items": [], "next_cursor": None}


def test_enrolment_lookup_returns_history(client: TestClient) -> None:
    r = client.post(
        "/api/v1/enrolment-applications/lookup",
        json={"number": "PRE-2026-0000002", "child_birth_date": "2020-02-20"},
        headers=API,
    )
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "approved"
    assert [h["to"] for h in body["history"]] == ["submitted", "under_review", "approved"]
    assert body["requested_school"]["name_fr"]


def test_meta_and_health(client: TestClient) -> None:
    meta = client.get("/api/v1/meta", headers=API).json()
    assert meta["school_year"] == "2025-2026"
    assert meta["semester"] == 2
    assert meta["now"] == "2026-05-20T10:00:00+01:00"
    assert client.get("/health").json() == {"status": "ok"}


def test_request_id_is_echoed_or_generated(client: TestClient) -> None:
    r = client.get("/api/v1/meta", headers={**API, "X-Request-ID": "abc-123"})
    assert r.headers["x-request-id"] == "abc-123"
    generated = client.get("/api/v1/meta", headers=API).headers["x-request-id"]
    assert generated.startswith("req_")
