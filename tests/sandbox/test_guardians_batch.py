"""`POST /api/v1/guardians/batch`: guardians and their registered phones, for alerts."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.sandbox.conftest import ADMIN, API, assert_problem, demo_ids


def test_batch_names_each_guardians_phones_in_the_order_asked(client: TestClient) -> None:
    khadija, kids = demo_ids(client)
    event = client.post(
        "/_sandbox/absences",
        json={"student_id": kids["001"], "date": "2026-05-20", "start_time": "08:30", "hours": 2},
        headers=ADMIN,
    ).json()
    assert event["status"] == "unjustified"
    feed = client.get("/api/v1/changes", params={"limit": 200}, headers=API).json()
    gids = [e for e in feed["items"] if e["type"] == "absence.created"][-1]["guardian_ids"]
    assert khadija in gids
    assert len(gids) >= 2  # Khadija and Rachid share the children
    reply = client.post(
        "/api/v1/guardians/batch", json={"ids": [*reversed(gids), "gdn_unknown"]}, headers=API
    )
    assert reply.status_code == 200
    items = reply.json()["items"]
    assert [g["id"] for g in items] == list(reversed(gids))  # unknown ids left out
    phones = {g["id"]: g["phones"] for g in items}
    assert phones[khadija] == ["+212600000001"]
    assert {"+212700000001"} <= {p for ps in phones.values() for p in ps}


def test_absence_events_carry_the_hours_of_the_absence(client: TestClient) -> None:
    _, kids = demo_ids(client)
    client.post(
        "/_sandbox/absences",
        json={"student_id": kids["002"], "date": "2026-05-20", "start_time": "14:30", "hours": 2},
        headers=ADMIN,
    )
    feed = client.get("/api/v1/changes", params={"limit": 200}, headers=API).json()
    data = feed["items"][-1]["data"]
    assert (data["start_time"], data["end_time"], data["hours"]) == ("14:30", "16:30", 2)


def test_batch_refuses_an_empty_or_oversized_list(client: TestClient) -> None:
    assert_problem(
        client.post("/api/v1/guardians/batch", json={"ids": []}, headers=API),
        400,
        "invalid-request",
    )
    many = {"ids": [f"gdn_{i}" for i in range(501)]}
    assert_problem(
        client.post("/api/v1/guardians/batch", json=many, headers=API), 400, "invalid-request"
    )
    assert client.post("/api/v1/guardians/batch", json={"ids": ["x"]}).status_code == 401
