"""The sandbox's absence totals, by DOMAIN.md §4 "What counts" (the gateway's
`gateway/dialogs/absences.py` is the same rule, and `tests/gateway/test_running_total.py` checks
the two agree on every kind and status):

- an absence (`kind: absence`) whose status is `unjustified` or `rejected` is unjustified;
- a `justified` absence is counted apart;
- a lateness (`kind: late`) is never an absence hour: it is counted apart, whatever its status.

One function computes them for `GET /students/{sid}/absences` (`totals`) and for the running
totals that absence events carry in the change feed, so an alert and the answer to ABS say the
same figures.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sandbox import db
from sandbox.clock import iso, school_year_of

__all__ = ["absence_totals", "running_totals", "since_september"]


def absence_totals(conn: Connection, where: list[Any]) -> dict[str, Any]:
    """`unjustified_count`, `unjustified_hours`, `justified_hours` and `late_count` of the
    absences matching `where` (SQL conditions on `db.absence`)."""
    a = db.absence
    absence = a.c.kind == "absence"
    unjustified = sa.and_(absence, a.c.status.in_(("unjustified", "rejected")))
    justified = sa.and_(absence, a.c.status == "justified")
    row = conn.execute(
        sa.select(
            sa.func.coalesce(sa.func.sum(sa.case((unjustified, 1), else_=0)), 0),
            sa.func.coalesce(sa.func.sum(sa.case((unjustified, a.c.hours), else_=0)), 0),
            sa.func.coalesce(sa.func.sum(sa.case((justified, a.c.hours), else_=0)), 0),
            sa.func.coalesce(sa.func.sum(sa.case((a.c.kind == "late", 1), else_=0)), 0),
        ).where(*where)
    ).one()
    return {
        "unjustified_count": int(row[0]),
        "unjustified_hours": float(row[1]),
        "justified_hours": float(row[2]),
        "late_count": int(row[3]),
    }


def since_september(now: datetime) -> date:
    """The first day of the school year of `now` (what "since September" means)."""
    return date(school_year_of(now.date()), 9, 1)


def range_conditions(student_key: int, start: date, end: date, now: datetime) -> list[Any]:
    """A student's absences dated in [start, end] and recorded by `now` (what the absences
    endpoint reads when asked without a status or kind)."""
    a = db.absence
    return [
        a.c.student_id == student_key,
        a.c.date >= start.isoformat(),
        a.c.date <= end.isoformat(),
        a.c.recorded_at <= iso(now),
    ]


def running_totals(conn: Connection, student_key: int, now: datetime) -> dict[str, Any]:
    """A child's totals since September up to `now`, as the absences endpoint gives them with
    its default range (from the 1st of September to today): what an absence event carries."""
    since = since_september(now)
    totals = absence_totals(conn, range_conditions(student_key, since, now.date(), now))
    return {"since": since.isoformat(), **totals}
