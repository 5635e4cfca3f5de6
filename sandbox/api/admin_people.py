"""`/_sandbox/*` mutations of links and year results (admin token; absent in production): a
guardian's `may_notify` on a child, and a year result published (`year_result.published`).

Like every mutation, each writes its change event (if any) in the same transaction."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request

from sandbox import catalog, db, ids, service
from sandbox.api.admin import ADMIN, resolve_student
from sandbox.api.deps import Clock, guardian_key, require_admin
from sandbox.clock import iso
from sandbox.problems import ProblemError, responses
from sandbox.schemas import LinkOut, LinkUpdate, YearResultOut, YearResultPublish

router = APIRouter(
    prefix="/_sandbox", tags=["sandbox-admin"], dependencies=[Depends(require_admin)]
)

PASS_MARK = 10.0  # the default decision: promoted from 10/20 (DOMAIN.md §2)


@router.put("/guardian-links", response_model=LinkOut, responses=responses(*ADMIN, 404))
def set_link(body: LinkUpdate, request: Request) -> LinkOut:
    """Allow or forbid notices about a child to one of its guardians (`may_notify`, served by
    `POST /guardians/batch`). No change event: the link is not news for the family."""
    gid = guardian_key(body.guardian_id)
    gs = db.guardian_student
    with request.app.state.engine.begin() as conn:
        sid, _ = resolve_student(conn, body.student_id, body.massar_code)
        done = conn.execute(
            sa.update(gs)
            .where(gs.c.guardian_id == (gid or -1), gs.c.student_id == sid)
            .values(may_notify=1 if body.may_notify else 0)
        )
        if done.rowcount != 1:
            raise ProblemError(404, "not-linked", "This guardian is not linked to this student.")
    return LinkOut(
        guardian_id=body.guardian_id, student_id=ids.encode("stu", sid), may_notify=body.may_notify
    )


@router.post("/results/publish", response_model=YearResultOut, responses=responses(*ADMIN, 404))
def publish_year_result(body: YearResultPublish, request: Request, clock: Clock) -> YearResultOut:
    """Publish one student's year result; emits `year_result.published` (once: publishing an
    already published year changes nothing)."""
    year = catalog.parse_year(body.school_year)
    if year is None:
        raise ProblemError(400, "invalid-request", "school_year must look like 2025-2026.")
    now = clock.now()
    yr, sr = db.year_result, db.semester_result
    with request.app.state.engine.begin() as conn:
        sid, _ = resolve_student(conn, body.student_id, body.massar_code)
        public_id = ids.encode("stu", sid)
        existing = conn.execute(
            sa.select(yr).where(yr.c.student_id == sid, yr.c.school_year == year)
        ).first()
        if existing is not None and existing.published_at and existing.published_at <= iso(now):
            return YearResultOut(
                student_id=public_id,
                school_year=body.school_year,
                average=existing.average,
                decision=existing.decision,
                published_at=existing.published_at,
                already_published=True,
            )
        averages = [
            r.average
            for r in conn.execute(
                sa.select(sr.c.average).where(sr.c.student_id == sid, sr.c.school_year == year)
            )
            if r.average is not None
        ]
        average = round(sum(averages) / 2, 2) if len(averages) == 2 else None
        if body.decision is not None:
            decision = body.decision
        elif average is None:
            decision = "pending"  # a semester is missing: the council has not decided
        else:
            decision = "promoted" if average >= PASS_MARK else "repeat"
        values = {
            "average": average,
            "decision": decision,
            "orientation_stream": body.orientation_stream,
            "published_at": iso(now),
        }
        if existing is None:
            conn.execute(sa.insert(yr).values(student_id=sid, school_year=year, **values))
        else:
            conn.execute(
                sa.update(yr)
                .where(yr.c.student_id == sid, yr.c.school_year == year)
                .values(**values)
            )
        data = {"school_year": body.school_year, "decision": decision}
        service.emit(
            conn, "year_result.published", now, sid, service.guardian_ids_of(conn, sid), data
        )
    return YearResultOut(
        student_id=public_id,
        school_year=body.school_year,
        average=average,
        decision=decision,
        published_at=iso(now),
        already_published=False,
    )
