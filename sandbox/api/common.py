"""What the `/api/v1` routers share: error lists, cache TTLs, references and the link check."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query
from sqlalchemy.engine import Connection

from sandbox import catalog, db
from sandbox.api.deps import (
    guardian_key,
    require_token,
    student_key,
)
from sandbox.clock import school_year_of
from sandbox.problems import ProblemError
from sandbox.schemas import (
    LevelRef,
    SubjectRef,
)

COMMON = (400, 401, 429, 500, 503, 504)
TTL_GUARDIAN, TTL_GRADES, TTL_ABSENCES, TTL_ENROLMENT = 3600, 900, 300, 600
FEED_WINDOW = timedelta(days=14)
EVENT_TYPES = {
    "absence.created",
    "absence.updated",
    "grade.published",
    "semester_result.published",
    "year_result.published",
    "enrolment.status_changed",
}
SchoolYearQ = Annotated[str | None, Query(pattern=r"^[0-9]{4}-[0-9]{4}$", examples=["2025-2026"])]


def mask(code: str) -> str:
    return code[:3] + "****" + code[-3:]


def level_ref(code: str) -> LevelRef:
    lv = catalog.LEVEL_BY_CODE[code]
    return LevelRef(code=lv.code, name_fr=lv.name_fr, name_ar=lv.name_ar)


def subject_ref(code: str) -> SubjectRef:
    fr, ar = catalog.SUBJECT_BY_CODE[code]
    return SubjectRef(code=code, name_fr=fr, name_ar=ar)


def year_param(value: str | None, now: datetime) -> int:
    if value is None:
        return school_year_of(now.date())
    start = catalog.parse_year(value)
    if start is None:
        raise ProblemError(400, "invalid-request", "school_year must look like 2025-2026.")
    return start


def _guardian_or_404(conn: Connection, gid: str) -> int:
    key = guardian_key(gid)
    if (
        key is None
        or conn.execute(sa.select(db.guardian.c.id).where(db.guardian.c.id == key)).first() is None
    ):
        raise ProblemError(404, "guardian-not-found", "No guardian has this id.")
    return key


def linked_student(conn: Connection, sid: str, on_behalf_of: str) -> sa.Row:  # type: ignore[type-arg]
    """The student row, after the X-On-Behalf-Of link check (404 unknown, 403 not linked)."""
    key = student_key(sid)
    gkey = guardian_key(on_behalf_of) or -1
    s, gs = db.student, db.guardian_student
    link = (
        sa.select(gs.c.guardian_id)
        .where(gs.c.guardian_id == gkey, gs.c.student_id == s.c.id)
        .scalar_subquery()
        .label("linked")
    )
    row = conn.execute(sa.select(s, link).where(s.c.id == key)).first()
    if row is None:
        raise ProblemError(404, "student-not-found", "No student has this id.")
    if row.linked is None:
        raise ProblemError(
            403, "not-linked", "The guardian in X-On-Behalf-Of has no link to this student."
        )
    return row


def api_router() -> APIRouter:
    """A router of `/api/v1` (the bearer token required); one per resource family."""
    return APIRouter(prefix="/api/v1", dependencies=[Depends(require_token)])
