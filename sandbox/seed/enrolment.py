"""Enrolment applications: first-grade pre-registrations and transfers, with their history."""

from __future__ import annotations

import json
import random
from datetime import date, timedelta
from typing import Any

from sandbox import catalog, ids
from sandbox.seed.base import Context, Rows, ts

_FIRST_GRADE_STATUSES = (
    ["submitted"] * 5
    + ["under_review"] * 6
    + ["approved"] * 5
    + ["rejected"] * 2
    + ["waitlisted"] * 2
)
_REJECTIONS = [
    "age_not_met",
    "outside_catchment",
    "incomplete_civil_status",
    "duplicate_application",
    "capacity_full",
]


def write_history(rows: Rows, app_id: int, steps: list[tuple[str, str, str, str | None]]) -> None:
    prev = None
    for j, (to, at, actor, reason) in enumerate(steps):
        rows["enrolment_status_history"].append(
            (app_id * 8 + j, app_id, prev, to, reason, actor, at)
        )
        prev = to


def first_grade_application(
    rng: random.Random,
    ctx: Context,
    sid: int,
    guardian_id: int,
    last_fr: str,
    last_ar: str,
    rows: Rows,
    events: list[tuple[Any, ...]],
) -> None:
    """A pre-registration for a younger sibling: submitted in April-May 2026, then decisions."""
    start = date(2026, 4, 1)
    span = (ctx.now.date() - start).days
    if span <= 0:
        return
    app_id = 10 + sid
    male = rng.random() < 0.5
    first_fr, first_ar = rng.choice(catalog.MALE if male else catalog.FEMALE)
    dob = (date(2020, 1, 1) + timedelta(days=rng.randrange(366))).isoformat()
    status = rng.choice(_FIRST_GRADE_STATUSES)
    submitted_day = start + timedelta(days=rng.randrange(span))
    steps: list[tuple[str, str, str, str | None]] = [
        ("submitted", ts(submitted_day, "20:00", rng.randrange(59)), "parent", None)
    ]
    day = submitted_day
    path = {
        "submitted": [],
        "under_review": ["under_review"],
        "approved": ["under_review", "approved"],
        "rejected": ["under_review", "rejected"],
        "waitlisted": ["under_review", "waitlisted"],
    }[status]
    reason = rng.choice(_REJECTIONS) if status == "rejected" else None
    for to in path:
        day = day + timedelta(days=1 + rng.randrange(7))
        if day > ctx.now.date():
            break
        steps.append(
            (
                to,
                ts(day, "09:00", rng.randrange(59) + 60 * rng.randrange(6)),
                "director",
                reason if to == "rejected" else None,
            )
        )
    status = steps[-1][0]
    requested = rng.choice(ctx.primary_school_ids)
    decided = steps[-1][1] if status in ("approved", "rejected") else None
    rows["enrolment_application"].append(
        (
            app_id,
            ids.application_number("PRE-2026", sid),
            "first_grade",
            "2026-2027",
            first_fr,
            first_ar,
            last_fr,
            last_ar,
            dob,
            guardian_id,
            requested,
            requested if status == "approved" else None,
            status,
            reason if status == "rejected" else None,
            1 + rng.randrange(40) if status == "waitlisted" else None,
            None,
            steps[0][1],
            decided,
        )
    )
    write_history(rows, app_id, steps)
    gids = json.dumps([ids.encode("gdn", guardian_id)])
    for prev, step in zip([None, *[s[0] for s in steps]], steps, strict=False):
        if step[1] >= ctx.event_cut and prev is not None:
            events.append(
                (
                    step[1],
                    "enrolment.status_changed",
                    None,
                    gids,
                    json.dumps(
                        {"application_id": ids.encode("app", app_id), "from": prev, "to": step[0]}
                    ),
                )
            )


def transfer_application(
    rng: random.Random,
    ctx: Context,
    sid: int,
    guardian_id: int | None,
    student_row: tuple[Any, ...],
    school_id: int,
    rows: Rows,
    events: list[tuple[Any, ...]],
) -> None:
    """A transfer request of an enrolled pupil (requested -> released_by_origin -> ...)."""
    app_id = 100_000_000 + sid
    day = date(2025, 10, 1) + timedelta(days=rng.randrange(150))
    if day > ctx.now.date():
        return
    path = rng.choice(
        [
            ["requested"],
            ["requested", "released_by_origin"],
            ["requested", "released_by_origin", "accepted_by_destination", "completed"],
            ["requested", "rejected"],
        ]
    )
    steps = [(path[0], ts(day, "10:00", rng.randrange(59)), "parent", None)]
    for to in path[1:]:
        day = day + timedelta(days=2 + rng.randrange(10))
        steps.append((to, ts(day, "11:00", rng.randrange(59)), "director", None))
    status = steps[-1][0]
    rows["enrolment_application"].append(
        (
            app_id,
            ids.application_number("TRF-2025", sid),
            "transfer",
            "2025-2026",
            student_row[2],
            student_row[3],
            student_row[4],
            student_row[5],
            student_row[9],
            guardian_id,
            school_id,
            None,
            status,
            None,
            None,
            sid,
            steps[0][1],
            steps[-1][1] if status in ("completed", "rejected") else None,
        )
    )
    write_history(rows, app_id, steps)
