"""Additive fields of the contract (issue 26 items 1 and 8): absence events carry the child's
running totals, equal to the absences endpoint's for its default range (one function,
`sandbox/absence_rule.py`); `POST /guardians/batch` says `may_notify` per guardian and the
children a guardian must not be told about; a year result published emits
`year_result.published`."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.sandbox.conftest import ADMIN, API, assert_problem, demo_ids, on_behalf

DAY = "2026-05-20"  # before the sandbox's clock (DEFAULT_NOW), after the demo absences


def head(client: TestClient) -> str:
    return str(client.get("/api/v1/changes/head", headers=API).json()["cursor"])


def events_after(client: TestClient, cursor: str) -> list[dict[str, Any]]:
    body = client.get("/api/v1/changes", params={"cursor": cursor}, headers=API).json()
    return list(body["items"])


def year_totals(client: TestClient, gid: str, sid: str) -> dict[str, Any]:
    body = client.get(f"/api/v1/students/{sid}/absences", headers=on_behalf(gid)).json()
    return dict(body["totals"])


@pytest.mark.parametrize(
    ("kind", "status"),
    [
        ("absence", "unjustified"),
        ("absence", "justified"),
        ("absence", "rejected"),
        ("late", "unjustified"),
    ],
)
def test_an_absence_event_carries_the_totals_the_absences_endpoint_gives(
    client: TestClient, kind: str, status: str
) -> None:
    gid, kids = demo_ids(client)
    cursor = head(client)
    body = {"student_id": kids["001"], "date": DAY, "hours": 2, "kind": kind, "status": status}
    assert client.post("/_sandbox/absences", json=body, headers=ADMIN).status_code == 201
    (event,) = events_after(client, cursor)
    assert event["type"] == "absence.created"
    assert "totals" not in event["data"]  # served on its own, not inside `data`
    totals = event["totals"]
    assert totals["since"] == "2025-09-01"
    assert {k: v for k, v in totals.items() if k != "since"} == year_totals(
        client, gid, kids["001"]
    )


def test_an_excuse_refused_later_carries_the_new_total(client: TestClient) -> None:
    gid, kids = demo_ids(client)
    body = {"student_id": kids["002"], "date": DAY, "hours": 2, "status": "justified"}
    made = client.post("/_sandbox/absences", json=body, headers=ADMIN).json()
    before = year_totals(client, gid, kids["002"])
    cursor = head(client)
    refused = client.patch(
        f"/_sandbox/absences/{made['id']}", json={"status": "rejected"}, headers=ADMIN
    )
    assert refused.status_code == 200, refused.text
    (event,) = events_after(client, cursor)
    assert (event["type"], event["data"]["status"]) == ("absence.updated", "rejected")
    assert event["data"]["start_time"] == "08:30"
    after = year_totals(client, gid, kids["002"])
    assert after["unjustified_count"] == before["unjustified_count"] + 1
    assert after["unjustified_hours"] == before["unjustified_hours"] + 2
    assert {k: v for k, v in event["totals"].items() if k != "since"} == after


def test_other_events_have_no_totals(client: TestClient) -> None:
    _, kids = demo_ids(client)
    cursor = head(client)
    published = client.post(
        "/_sandbox/grades/publish",
        json={"school_year": "2025-2026", "semester": 2, "student_id": kids["001"]},
        headers=ADMIN,
    )
    assert published.status_code == 200, published.text
    events = events_after(client, cursor)
    assert events
    assert all(e["totals"] is None for e in events)


def contact(client: TestClient, gid: str) -> dict[str, Any]:
    reply = client.post("/api/v1/guardians/batch", json={"ids": [gid]}, headers=API)
    assert reply.status_code == 200, reply.text
    (item,) = reply.json()["items"]
    return dict(item)


def test_may_notify_is_true_by_default_and_follows_each_link(client: TestClient) -> None:
    gid, kids = demo_ids(client)
    assert (contact(client, gid)["may_notify"], contact(client, gid)["no_notice_students"]) == (
        True,
        [],
    )
    link = {"guardian_id": gid, "student_id": kids["002"], "may_notify": False}
    assert client.put("/_sandbox/guardian-links", json=link, headers=ADMIN).status_code == 200
    one_off = contact(client, gid)
    assert (one_off["may_notify"], one_off["no_notice_students"]) == (True, [kids["002"]])

    link["student_id"] = kids["001"]
    assert client.put("/_sandbox/guardian-links", json=link, headers=ADMIN).status_code == 200
    none_left = contact(client, gid)
    assert none_left["may_notify"] is False
    assert sorted(none_left["no_notice_students"]) == sorted(kids.values())

    link["may_notify"] = True
    assert client.put("/_sandbox/guardian-links", json=link, headers=ADMIN).status_code == 200
    assert contact(client, gid)["may_notify"] is True


def test_a_link_that_does_not_exist_is_not_found(client: TestClient) -> None:
    gid, _ = demo_ids(client)
    naima = client.post(
        "/api/v1/guardians/lookup", json={"phone": "+212600000002"}, headers=API
    ).json()
    adam = naima["students"][0]["id"]
    link = {"guardian_id": gid, "student_id": adam, "may_notify": False}
    assert_problem(
        client.put("/_sandbox/guardian-links", json=link, headers=ADMIN), 404, "not-linked"
    )


def test_a_year_result_published_emits_its_event_once(client: TestClient) -> None:
    gid, kids = demo_ids(client)
    cursor = head(client)
    body = {"school_year": "2025-2026", "student_id": kids["001"], "decision": "promoted"}
    first = client.post("/_sandbox/results/publish", json=body, headers=ADMIN)
    assert first.status_code == 200, first.text
    assert first.json()["already_published"] is False
    (event,) = events_after(client, cursor)
    assert event["type"] == "year_result.published"
    assert event["data"] == {"school_year": "2025-2026", "decision": "promoted"}
    assert gid in event["guardian_ids"]
    again = client.post("/_sandbox/results/publish", json=body, headers=ADMIN)
    assert again.json()["already_published"] is True
    assert len(events_after(client, cursor)) == 1
    results = client.get(
        f"/api/v1/students/{kids['001']}/results",
        params={"school_year": "2025-2026"},
        headers=on_behalf(gid),
    )
    assert results.status_code == 200, results.text
    assert results.json()["decision"] == "promoted"
