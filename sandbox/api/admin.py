"""`/_sandbox/*`: chaos, clock, data mutations and call stats (admin token; absent in production).

Every mutation writes its change event in the same transaction (outbox), so it shows in /changes.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Path, Request
from sqlalchemy.engine import Connection

from sandbox import catalog, chaos, db, ids, service
from sandbox.api.deps import Clock, require_admin
from sandbox.api.enrolment import application_detail
from sandbox.clock import iso, school_year_of, semester_of
from sandbox.problems import ProblemError, responses
from sandbox.schemas import (
    AbsenceCreate,
    AbsenceOut,
    AbsenceUpdate,
    ApplicationLookupResponse,
    ChaosState,
    ChaosUpdate,
    ClockRequest,
    ClockResponse,
    GenerateRequest,
    GenerateResponse,
    PublishRequest,
    PublishResponse,
    Stats,
    StatusChangeRequest,
    SubjectRef,
)

router = APIRouter(
    prefix="/_sandbox", tags=["sandbox-admin"], dependencies=[Depends(require_admin)]
)
ADMIN = (400, 401)


def _chaos(request: Request) -> chaos.Chaos:
    state: chaos.Chaos = request.app.state.chaos
    return state


@router.get("/chaos", response_model=ChaosState, responses=responses(*ADMIN))
def get_chaos(request: Request) -> ChaosState:
    return ChaosState.model_validate(_chaos(request).state())


@router.put("/chaos", response_model=ChaosState, responses=responses(*ADMIN))
def put_chaos(body: ChaosUpdate, request: Request) -> ChaosState:
    """Merge the given fields into the live chaos; `profile` first resets to that profile."""
    state = _chaos(request)
    config = state.config
    if body.profile is not None:
        config = chaos.with_profile(config, body.profile)
    fields = body.model_dump(exclude_none=True, exclude={"profile"})
    if fields.get("error_mix"):
        try:
            chaos.parse_mix(fields["error_mix"])
        except ValueError:
            raise ProblemError(
                400, "invalid-request", "error_mix must look like 503:0.6,500:0.4."
            ) from None
    config = replace(config, **fields)
    state.update(config)
    return ChaosState.model_validate(state.state())


@router.post("/clock", response_model=ClockResponse, responses=responses(*ADMIN))
def set_clock(body: ClockRequest, clock: Clock) -> ClockResponse:
    """Set (`now`) or move (`advance_seconds`) the simulated clock."""
    if body.now is not None:
        clock.set(body.now)
    if body.advance_seconds is not None:
        clock.advance(body.advance_seconds)
    now = clock.now()
    return ClockResponse(
        now=iso(now),
        school_year=catalog.year_code(school_year_of(now.date())),
        semester=semester_of(now.date()),
    )


def resolve_student(
    conn: Connection, student_id: str | None, massar_code: str | None
) -> tuple[int, int]:
    """(student key, current class id) from a public id or a Massar code."""
    s = db.student
    if student_id is not None:
        key = ids.decode("stu", student_id)
        cond = s.c.id == (key or -1)
    elif massar_code is not None:
        cond = s.c.massar_code == massar_code
    else:
        raise ProblemError(400, "invalid-request", "Give student_id or massar_code.")
    row = conn.execute(sa.select(s.c.id, s.c.class_id).where(cond)).first()
    if row is None:
        raise ProblemError(404, "student-not-found", "No such student.")
    return row.id, row.class_id


def _absence_out(row: sa.Row) -> AbsenceOut:  # type: ignore[type-arg]
    subject = None
    if row.subject_code:
        fr, ar = catalog.SUBJECT_BY_CODE[row.subject_code]
        subject = SubjectRef(code=row.subject_code, name_fr=fr, name_ar=ar)
    return AbsenceOut(
        id=ids.encode("abs", row.id),
        date=row.date,
        start_time=row.start_time,
        end_time=row.end_time,
        hours=row.hours,
        subject=subject,
        kind=row.kind,
        status=row.status,
        reason_code=row.reason_code,
        recorded_at=row.recorded_at,
    )


def insert_absence(conn: Connection, body: AbsenceCreate, now: datetime) -> AbsenceOut:
    sid, class_id = resolve_student(conn, body.student_id, body.massar_code)
    if body.subject is not None and body.subject not in catalog.SUBJECT_BY_CODE:
        raise ProblemError(400, "invalid-request", "Unknown subject code.")
    a = db.absence
    new_id = conn.execute(sa.select(sa.func.coalesce(sa.func.max(a.c.id), 0) + 1)).scalar_one()
    h, m = int(body.start_time[:2]), int(body.start_time[3:])
    end_minutes = min(h * 60 + m + int(body.hours * 60), 23 * 60 + 59)
    values = {
        "id": new_id,
        "student_id": sid,
        "class_id": class_id,
        "date": body.date.isoformat(),
        "start_time": body.start_time,
        "end_time": f"{end_minutes // 60:02d}:{end_minutes % 60:02d}",
        "hours": body.hours,
        "subject_code": body.subject if body.kind == "absence" else None,
        "kind": body.kind,
        "status": body.status,
        "reason_code": body.reason_code if body.status == "justified" else None,
        "recorded_at": iso(now),
        "justified_at": iso(now) if body.status == "justified" else None,
    }
    conn.execute(sa.insert(a).values(**values))
    service.emit_absence(
        conn,
        "absence.created",
        now,
        sid,
        {
            "absence_id": ids.encode("abs", new_id),
            "date": values["date"],
            "start_time": values["start_time"],
            "end_time": values["end_time"],
            "hours": body.hours,
            "kind": body.kind,
            "status": body.status,
        },
    )
    row = conn.execute(sa.select(a).where(a.c.id == new_id)).one()
    return _absence_out(row)


@router.post(
    "/absences", response_model=AbsenceOut, status_code=201, responses=responses(*ADMIN, 404)
)
def record_absence(body: AbsenceCreate, request: Request, clock: Clock) -> AbsenceOut:
    """Record one absence (as a teacher would in Moudaris); emits `absence.created`."""
    with request.app.state.engine.begin() as conn:
        return insert_absence(conn, body, clock.now())


@router.patch("/absences/{absence_id}", response_model=AbsenceOut, responses=responses(*ADMIN, 404))
def update_absence(
    absence_id: str, body: AbsenceUpdate, request: Request, clock: Clock
) -> AbsenceOut:
    """Justify or reject an absence (school staff); emits `absence.updated`."""
    key = ids.decode("abs", absence_id)
    now = clock.now()
    a = db.absence
    with request.app.state.engine.begin() as conn:
        row = conn.execute(sa.select(a).where(a.c.id == (key or -1))).first()
        if row is None:
            raise ProblemError(404, "not-found", "No such absence.")
        conn.execute(
            sa.update(a)
            .where(a.c.id == row.id)
            .values(
                status=body.status,
                reason_code=body.reason_code if body.status == "justified" else None,
                justified_at=iso(now) if body.status == "justified" else None,
            )
        )
        service.emit_absence(
            conn,
            "absence.updated",
            now,
            row.student_id,
            {
                "absence_id": absence_id,
                "date": row.date,
                "start_time": row.start_time,
                "end_time": row.end_time,
                "hours": row.hours,
                "kind": row.kind,
                "status": body.status,
            },
        )
        return _absence_out(conn.execute(sa.select(a).where(a.c.id == row.id)).one())


@router.post("/grades/publish", response_model=PublishResponse, responses=responses(*ADMIN, 404))
def publish_grades(body: PublishRequest, request: Request, clock: Clock) -> PublishResponse:
    """Publish a semester for one student (`scope=student`) or for the student's whole class
    (`scope=class`); marks not entered yet are generated. Emits `grade.published` and
    `semester_result.published` per student."""
    year = catalog.parse_year(body.school_year)
    if year is None:
        raise ProblemError(400, "invalid-request", "school_year must look like 2025-2026.")
    now = clock.now()
    with request.app.state.engine.begin() as conn:
        sid, _ = resolve_student(conn, body.student_id, body.massar_code)
        e = db.enrollment
        class_id = conn.execute(
            sa.select(e.c.class_id).where(e.c.student_id == sid, e.c.school_year == year)
        ).scalar_one_or_none()
        if class_id is None:
            raise ProblemError(404, "student-not-found", "The student was not enrolled that year.")
        targets = [sid]
        if body.scope == "class":
            targets = list(
                conn.execute(
                    sa.select(e.c.student_id)
                    .where(e.c.class_id == class_id, e.c.school_year == year)
                    .order_by(e.c.student_id)
                ).scalars()
            )
        published, already = service.publish_semester(
            conn, targets, year, body.semester, now, request.app.state.settings.seed
        )
    return PublishResponse(
        school_year=body.school_year,
        semester=body.semester,
        published=published,
        already_published=already,
        published_at=iso(now),
    )


@router.post(
    "/enrolment-applications/{number}/status",
    response_model=ApplicationLookupResponse,
    responses=responses(*ADMIN, 404, 409),
)
def move_application(
    number: Annotated[str, Path(max_length=32)],
    body: StatusChangeRequest,
    request: Request,
    clock: Clock,
) -> ApplicationLookupResponse:
    """Move an application along its status machine (DOMAIN §5); illegal moves get 409."""
    now = clock.now()
    ea, h = db.enrolment_application, db.enrolment_status_history
    with request.app.state.engine.begin() as conn:
        row = conn.execute(sa.select(ea).where(ea.c.number == number.upper())).first()
        if row is None:
            raise ProblemError(404, "application-not-found", "No application has this number.")
        if not service.allowed(row.kind, row.status, body.status):
            raise ProblemError(
                409,
                "invalid-transition",
                "This status change is not allowed from the current status.",
            )
        if body.status == "rejected" and body.reason not in service.REJECTION_REASONS:
            raise ProblemError(400, "invalid-request", "A rejection needs a known reason code.")
        values: dict[str, object] = {"status": body.status}
        if body.status in ("approved", "rejected", "completed", "enrolled"):
            values["decided_at"] = iso(now)
        if body.status == "rejected":
            values["rejection_reason"] = body.reason
        if body.status == "approved":
            values["assigned_school_id"] = row.requested_school_id
        if body.status == "waitlisted":
            values["waitlist_position"] = 1 + (row.id % 30)
        conn.execute(sa.update(ea).where(ea.c.id == row.id).values(**values))
        next_hist = conn.execute(
            sa.select(sa.func.coalesce(sa.func.max(h.c.id), 0) + 1)
        ).scalar_one()
        conn.execute(
            sa.insert(h).values(
                id=next_hist,
                application_id=row.id,
                from_status=row.status,
                to_status=body.status,
                reason=body.reason,
                actor=body.actor,
                at=iso(now),
            )
        )
        gids = [ids.encode("gdn", row.guardian_id)] if row.guardian_id else []
        service.emit(
            conn,
            "enrolment.status_changed",
            now,
            row.student_id,
            gids,
            {
                "application_id": ids.encode("app", row.id),
                "number": row.number,
                "from": row.status,
                "to": body.status,
                "reason": body.reason if body.status == "rejected" else None,
                "child_first_name_fr": row.child_first_name_fr,
                "child_first_name_ar": row.child_first_name_ar,
            },
        )
        return application_detail(conn, conn.execute(sa.select(ea).where(ea.c.id == row.id)).one())


@router.post("/events/generate", response_model=GenerateResponse, responses=responses(*ADMIN))
def generate_events(body: GenerateRequest, request: Request, clock: Clock) -> GenerateResponse:
    """Play teachers entering absences for random students (deterministic per call count)."""
    state = request.app.state
    state.generate_calls += 1
    rng = random.Random(f"{state.settings.seed}:generate:{state.generate_calls}")
    now = clock.now()
    made = 0
    with state.engine.begin() as conn:
        max_id = conn.execute(sa.select(sa.func.max(db.student.c.id))).scalar_one() or 0
        for _ in range(body.absences):
            sid = rng.randint(1, max_id)
            row = conn.execute(
                sa.select(db.student.c.id).where(db.student.c.id >= sid).limit(1)
            ).first()
            if row is None:
                continue
            insert_absence(
                conn,
                AbsenceCreate(
                    student_id=ids.encode("stu", row.id),
                    date=now.date(),
                    start_time=rng.choice(["08:30", "09:30", "10:30", "14:30", "15:30"]),
                    hours=rng.choice([1, 2]),
                    kind="late" if rng.random() < 0.15 else "absence",
                ),
                now,
            )
            made += 1
    return GenerateResponse(absences=made, events=made)


@router.get("/stats", response_model=Stats, responses=responses(*ADMIN))
def get_stats(request: Request) -> Stats:
    """API calls served under /api/v1, per method + route template and status."""
    return Stats.model_validate(request.app.state.stats.snapshot())


@router.delete("/stats", response_model=Stats, responses=responses(*ADMIN))
def reset_stats(request: Request) -> Stats:
    request.app.state.stats.reset()
    return Stats.model_validate(request.app.state.stats.snapshot())
