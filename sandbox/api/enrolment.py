"""Enrolment applications: by guardian, by pupil, and by number (DOMAIN §5, §8)."""

from __future__ import annotations

import hmac
from typing import Annotated

import sqlalchemy as sa
from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.engine import Connection

from sandbox import db, ids, service
from sandbox.api.common import (
    COMMON,
    TTL_ENROLMENT,
    _guardian_or_404,
    api_router,
    linked_student,
)
from sandbox.api.deps import (
    Clock,
    Conn,
    OnBehalfOf,
    cached,
)
from sandbox.problems import ProblemError, responses
from sandbox.schemas import (
    ApplicationLookupRequest,
    ApplicationLookupResponse,
    ApplicationsResponse,
    ApplicationSummary,
    HistoryStep,
    SchoolRef,
)

router = api_router()


# ---- enrolment -----------------------------------------------------------------------------------


def _school_ref(conn: Connection, school_id: int | None) -> SchoolRef | None:
    if school_id is None:
        return None
    row = conn.execute(
        sa.select(db.school.c.name_fr, db.school.c.name_ar).where(db.school.c.id == school_id)
    ).first()
    return SchoolRef(name_fr=row.name_fr, name_ar=row.name_ar) if row else None


def _summaries(conn: Connection, where: sa.ColumnElement[bool]) -> list[ApplicationSummary]:
    ea = db.enrolment_application
    rows = conn.execute(
        sa.select(ea).where(where).order_by(ea.c.submitted_at.desc(), ea.c.id)
    ).all()
    return [
        ApplicationSummary(
            id=ids.encode("app", r.id),
            number=r.number,
            kind=r.kind,
            school_year=r.school_year,
            status=r.status,
            child_first_name_fr=r.child_first_name_fr,
            child_first_name_ar=r.child_first_name_ar,
            rejection_reason=r.rejection_reason,
            waitlist_position=r.waitlist_position,
            requested_school=_school_ref(conn, r.requested_school_id),
            assigned_school=_school_ref(conn, r.assigned_school_id),
            submitted_at=r.submitted_at,
            decided_at=r.decided_at,
        )
        for r in rows
    ]


@router.get(
    "/guardians/{gid}/enrolment-applications",
    response_model=ApplicationsResponse,
    responses=responses(*COMMON, 403, 404),
    summary="Applications filed by this guardian",
)
def guardian_applications(
    gid: str, request: Request, conn: Conn, on_behalf_of: Annotated[str | None, OnBehalfOf] = None
) -> Response:
    if on_behalf_of is not None and on_behalf_of != gid:
        raise ProblemError(403, "not-linked", "X-On-Behalf-Of does not match this guardian.")
    key = _guardian_or_404(conn, gid)
    out = ApplicationsResponse(
        items=_summaries(conn, db.enrolment_application.c.guardian_id == key)
    )
    return cached(request, out, TTL_ENROLMENT)


@router.get(
    "/students/{sid}/enrolment-applications",
    response_model=ApplicationsResponse,
    responses=responses(*COMMON, 403, 404),
    summary="Re-registration and transfer requests of an enrolled pupil",
)
def student_applications(
    sid: str, on_behalf_of: OnBehalfOf, request: Request, conn: Conn
) -> Response:
    st = linked_student(conn, sid, on_behalf_of)
    out = ApplicationsResponse(
        items=_summaries(conn, db.enrolment_application.c.student_id == st.id)
    )
    return cached(request, out, TTL_ENROLMENT)


def application_detail(conn: Connection, app_row: sa.Row) -> ApplicationLookupResponse:  # type: ignore[type-arg]
    h = db.enrolment_status_history
    steps = conn.execute(
        sa.select(h).where(h.c.application_id == app_row.id).order_by(h.c.at, h.c.id)
    ).all()
    return ApplicationLookupResponse(
        number=app_row.number,
        kind=app_row.kind,
        school_year=app_row.school_year,
        status=app_row.status,
        rejection_reason=app_row.rejection_reason,
        waitlist_position=app_row.waitlist_position,
        requested_school=_school_ref(conn, app_row.requested_school_id),
        assigned_school=_school_ref(conn, app_row.assigned_school_id),
        history=[
            HistoryStep(to=s.to_status, at=s.at, actor=s.actor, reason=s.reason) for s in steps
        ],
    )


@router.post(
    "/enrolment-applications/lookup",
    response_model=ApplicationLookupResponse,
    responses=responses(*COMMON, 404),
    summary="Status and history of an application, by number and the child's birth date",
    description="A wrong birth date gets the same 404 as an unknown number. 5 failures on one "
    "number in 24 h lock it for 24 h (429 `verification-locked`).",
)
def lookup_application(body: ApplicationLookupRequest, request: Request, clock: Clock) -> Response:
    now = clock.now()
    number = body.number.strip().upper()
    with request.app.state.engine.begin() as conn:
        wait = service.locked_for(conn, "application", number, now)
        if wait:
            raise service.locked_problem(wait)
        ea = db.enrolment_application
        row = conn.execute(sa.select(ea).where(ea.c.number == number)).first()
        stored = row.child_birth_date if row is not None else "0000-00-00"
        if row is None or not hmac.compare_digest(
            stored.encode(), body.child_birth_date.isoformat().encode()
        ):
            service.record_failure(conn, "application", number, now, service.APPLICATION_RULES)
            failed = True
        else:
            failed = False
            out = application_detail(conn, row)
    if failed:
        raise ProblemError(
            404, "application-not-found", "No application matches this number and birth date."
        )
    return cached(request, out, TTL_ENROLMENT)
