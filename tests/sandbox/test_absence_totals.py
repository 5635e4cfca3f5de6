"""The sandbox's absence `totals` follow the gateway's one rule (DOMAIN.md §4 "What counts"):
a table over every kind × status, each recorded alone on a day with nothing else, then the
demo children's whole year."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from backend_client.models import AbsencesPage
from gateway.dialogs.absences import absence_figures, totals_of
from tests.sandbox.conftest import ADMIN, demo_ids, on_behalf

EMPTY_DAY = "2026-01-06"  # a school day no demo absence falls on

# kind, status -> (unjustified hours, justified hours, lateness count) for one 2 h record
TABLE = [
    ("absence", "unjustified", (2, 0, 0)),
    ("absence", "rejected", (2, 0, 0)),  # a refused excuse leaves it unjustified
    ("absence", "justified", (0, 2, 0)),
    ("late", "unjustified", (0, 0, 1)),  # a lateness is never an absence hour
    ("late", "rejected", (0, 0, 1)),
    ("late", "justified", (0, 0, 1)),
]


@pytest.mark.parametrize(("kind", "status", "expected"), TABLE, ids=lambda v: str(v))
def test_totals_of_one_record_of_each_kind_and_status(
    client: TestClient, kind: str, status: str, expected: tuple[int, int, int]
) -> None:
    gid, kids = demo_ids(client)
    made = client.post(
        "/_sandbox/absences",
        json={
            "student_id": kids["001"],
            "date": EMPTY_DAY,
            "hours": 2,
            "kind": kind,
            "status": status,
        },
        headers=ADMIN,
    )
    assert made.status_code == 201, made.text
    body = client.get(
        f"/api/v1/students/{kids['001']}/absences",
        params={"from": EMPTY_DAY, "to": EMPTY_DAY},
        headers=on_behalf(gid),
    ).json()
    totals = body["totals"]
    assert (
        totals["unjustified_hours"],
        totals["justified_hours"],
        totals["late_count"],
    ) == expected
    page = AbsencesPage.model_validate(body)
    assert totals_of(page.items) == page.totals  # the gateway's rule gives the same figures
    counted = 1 if kind == "absence" and status != "justified" else 0
    assert totals["unjustified_count"] == counted
    assert absence_figures(page).unjustified_count == counted


def test_the_demo_children_totals_count_rejected_excuses_and_lateness_apart(
    client: TestClient,
) -> None:
    gid, kids = demo_ids(client)
    salma = client.get(f"/api/v1/students/{kids['002']}/absences", headers=on_behalf(gid)).json()
    # 2 h + 1 h unjustified, 2 h rejected (PHILO, 16/02), a lateness not counted as an hour
    assert salma["totals"] == {
        "unjustified_hours": 5,
        "justified_hours": 0,
        "late_count": 1,
        "unjustified_count": 3,
    }
    youssef = client.get(f"/api/v1/students/{kids['001']}/absences", headers=on_behalf(gid)).json()
    assert youssef["totals"] == {
        "unjustified_hours": 3,
        "justified_hours": 2,
        "late_count": 1,
        "unjustified_count": 2,
    }
    for body in (salma, youssef):
        page = AbsencesPage.model_validate(body)
        assert totals_of(page.items) == page.totals
