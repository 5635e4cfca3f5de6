"""The `/api/v1` contract of DOMAIN §8 (read endpoints are sync `def`s on a pooled engine)."""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from datetime import date, datetime, timedelta
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy.engine import Connection

from sandbox import catalog, db, ids, service
from sandbox.api.deps import (
    Clock,
    Conn,
    OnBehalfOf,
    cached,
    guardian_key,
    require_token,
    student_key,
)
from sandbox.clock import iso, school_year_of, semester_of
from sandbox.problems import ProblemError, responses
from sandbox.schemas import (
    AbsenceOut,
    AbsencesResponse,
    AbsenceTotals,
    ApplicationLookupRequest,
    ApplicationLookupResponse,
    ApplicationsResponse,
    ApplicationSummary,
    Assessment,
    ChangeEvent,
    ChangesHead,
    ChangesResponse,
    GradesResponse,
    GuardianLookupRequest,
    GuardianLookupResponse,
    GuardianOut,
    GuardianStudentsResponse,
    HistoryStep,
    LevelRef,
    Meta,
    Orientation,
    ResultsResponse,
    SchoolRef,
    SemesterSummary,
    StudentProfile,
    StudentSummary,
    SubjectGrades,
    SubjectRef,
    VerifyRequest,
    VerifyResponse,
)

router = APIRouter(prefix="/api/v1", dependencies=[Depends(require_token)])
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


# ---- guardians -----------------------------------------------------------------------------------


def _children(conn: Connection, guardian_id: int) -> list[StudentSummary]:
    s, gs, c, sc = db.student, db.guardian_student, db.class_section, db.school
    rows = conn.execute(
        sa.select(
            s.c.id,
            s.c.first_name_fr,
            s.c.first_name_ar,
            s.c.massar_code,
            gs.c.relation,
            c.c.level_code,
            c.c.label,
            sc.c.name_fr,
            sc.c.name_ar,
        )
        .join(s, s.c.id == gs.c.student_id)
        .join(c, c.c.id == s.c.class_id)
        .join(sc, sc.c.id == c.c.school_id)
        .where(gs.c.guardian_id == guardian_id)
        .order_by(s.c.birth_date, s.c.id)
    ).all()
    return [
        StudentSummary(
            id=ids.encode("stu", r.id),
            first_name_fr=r.first_name_fr,
            first_name_ar=r.first_name_ar,
            relation=r.relation,
            level=level_ref(r.level_code),
            class_label=r.label,
            school=SchoolRef(name_fr=r.name_fr, name_ar=r.name_ar),
            massar_code_masked=mask(r.massar_code),
        )
        for r in rows
    ]


@router.post(
    "/guardians/lookup",
    response_model=GuardianLookupResponse,
    responses=responses(*COMMON, 404),
    summary="Guardian and linked students, by phone",
    description="Accepts any Moroccan phone form (0612…, 00212…, 212…, +212…). A guardian linked "
    "to no student gets 200 with an empty `students` list.",
)
def lookup_guardian(body: GuardianLookupRequest, request: Request, conn: Conn) -> Response:
    phone = service.normalise_phone(body.phone)
    g, gp = db.guardian, db.guardian_phone
    row = conn.execute(
        sa.select(g.c.id, g.c.first_name_fr, g.c.first_name_ar, g.c.preferred_lang)
        .join(gp, gp.c.guardian_id == g.c.id)
        .where(gp.c.e164 == phone)
    ).first()
    if row is None:
        raise ProblemError(404, "guardian-not-found", "No guardian has this phone number.")
    out = GuardianLookupResponse(
        guardian=GuardianOut(
            id=ids.encode("gdn", row.id),
            first_name_fr=row.first_name_fr,
            first_name_ar=row.first_name_ar,
            preferred_lang=row.preferred_lang,
        ),
        students=_children(conn, row.id),
    )
    return cached(request, out, TTL_GUARDIAN)


def _guardian_or_404(conn: Connection, gid: str) -> int:
    key = guardian_key(gid)
    if (
        key is None
        or conn.execute(sa.select(db.guardian.c.id).where(db.guardian.c.id == key)).first() is None
    ):
        raise ProblemError(404, "guardian-not-found", "No guardian has this id.")
    return key


@router.get(
    "/guardians/{gid}/students",
    response_model=GuardianStudentsResponse,
    responses=responses(*COMMON, 404),
    summary="Children of a guardian, with their current class",
)
def guardian_students(gid: str, request: Request, conn: Conn) -> Response:
    key = _guardian_or_404(conn, gid)
    return cached(
        request,
        GuardianStudentsResponse(items=_children(conn, key), next_cursor=None),
        TTL_GUARDIAN,
    )


# ---- verification --------------------------------------------------------------------------------


def _dob(text: str) -> str | None:
    """YYYY-MM-DD or DDMMYYYY -> ISO date text, None when not a date."""
    try:
        if len(text) == 8:
            return date(int(text[4:]), int(text[2:4]), int(text[:2])).isoformat()
        return date.fromisoformat(text).isoformat()
    except ValueError:
        return None


@router.post(
    "/students/verify",
    response_model=VerifyResponse,
    responses=responses(*COMMON),
    summary="Binding check: Massar code + birth date + a guardian phone linked to the student",
    description='Every mismatch gets the same answer (`{"match": false}`). Per phone, 3 '
    "failures lock for 15 minutes and 5 in 24 h lock for 24 h; per code, 10 failures in 24 h "
    "lock for 24 h (429).",
)
def verify_student(body: VerifyRequest, request: Request, clock: Clock) -> Response:
    phone = service.normalise_phone(body.phone)
    dob = _dob(body.birth_date)
    if dob is None:
        raise ProblemError(400, "invalid-request", "birth_date is not a valid date.")
    now = clock.now()
    with request.app.state.engine.begin() as conn:
        wait = max(
            service.locked_for(conn, "phone", phone, now),
            service.locked_for(conn, "code", body.massar_code, now),
        )
        if wait:
            raise service.locked_problem(wait)
        s, gs, gp = db.student, db.guardian_student, db.guardian_phone
        query = sa.select(s.c.id, s.c.birth_date)
        if body.massar_code[0].isdigit():  # the digits alone, among this phone's children
            query = (
                query.join(gs, gs.c.student_id == s.c.id)
                .join(gp, gp.c.guardian_id == gs.c.guardian_id)
                .where(gp.c.e164 == phone, sa.func.substr(s.c.massar_code, 2) == body.massar_code)
            )
        else:
            query = query.where(s.c.massar_code == body.massar_code)
        student = conn.execute(query).first()
        linked = conn.execute(
            sa.select(gs.c.student_id)
            .join(gp, gp.c.guardian_id == gs.c.guardian_id)
            .where(gp.c.e164 == phone, gs.c.student_id == (student.id if student else -1))
        ).first()
        stored = student.birth_date if student else "0000-00-00"
        dob_ok = hmac.compare_digest(stored.encode(), dob.encode())
        if student is not None and linked is not None and dob_ok:
            service.reset_counter(conn, "phone", phone)
            return Response(
                VerifyResponse(
                    match=True, student_id=ids.encode("stu", student.id)
                ).model_dump_json(),
                media_type="application/json",
                headers={"Cache-Control": "no-store"},
            )
        service.record_failure(conn, "phone", phone, now, service.PHONE_RULES)
        service.record_failure(conn, "code", body.massar_code, now, service.CODE_RULES)
    return Response(
        VerifyResponse(match=False).model_dump_json(),
        media_type="application/json",
        headers={"Cache-Control": "no-store"},
    )


# ---- students ------------------------------------------------------------------------------------


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


@router.get(
    "/students/{sid}",
    response_model=StudentProfile,
    responses=responses(*COMMON, 403, 404),
    summary="Minimal student profile",
)
def student_profile(
    sid: str, on_behalf_of: OnBehalfOf, request: Request, conn: Conn, clock: Clock
) -> Response:
    st = linked_student(conn, sid, on_behalf_of)
    c, sc = db.class_section, db.school
    cls = conn.execute(
        sa.select(c.c.level_code, c.c.label, c.c.school_year, sc.c.name_fr, sc.c.name_ar)
        .join(sc, sc.c.id == c.c.school_id)
        .where(c.c.id == st.class_id)
    ).one()
    out = StudentProfile(
        id=sid,
        first_name_fr=st.first_name_fr,
        first_name_ar=st.first_name_ar,
        gender=st.gender,
        school_year=catalog.year_code(cls.school_year),
        level=level_ref(cls.level_code),
        class_label=cls.label,
        school=SchoolRef(name_fr=cls.name_fr, name_ar=cls.name_ar),
        massar_code_masked=mask(st.massar_code),
        status=st.status,
    )
    return cached(request, out, TTL_GUARDIAN)


def held_on(year: int, semester: int, class_id: int, code: str, seq: int) -> date:
    """When a supervised test was held (derived, not stored)."""
    base = date(year, 10, 6) if semester == 1 else date(year + 1, 2, 23)
    day = base + timedelta(days=(seq - 1) * 35 + (class_id * 7 + sum(map(ord, code))) % 12)
    return day + timedelta(days=7 - day.weekday()) if day.weekday() >= 5 else day


@router.get(
    "/students/{sid}/grades",
    response_model=GradesResponse,
    responses=responses(*COMMON, 403, 404),
    summary="Continuous-assessment marks, subject and semester averages",
    description="Defaults: the clock's school year, and its latest published semester. 404 "
    "`not-published` until the semester is published by the sandbox clock.",
)
def student_grades(
    sid: str,
    on_behalf_of: OnBehalfOf,
    request: Request,
    conn: Conn,
    clock: Clock,
    school_year: SchoolYearQ = None,
    semester: Annotated[int | None, Query(ge=1, le=2)] = None,
) -> Response:
    st = linked_student(conn, sid, on_behalf_of)
    now = clock.now()
    year = year_param(school_year, now)
    sr = db.semester_result
    results = conn.execute(
        sa.select(sr.c.semester, sr.c.average, sr.c.rank, sr.c.published_at)
        .where(sr.c.student_id == st.id, sr.c.school_year == year, sr.c.published_at <= iso(now))
        .order_by(sr.c.semester.desc())
    ).all()
    if semester is not None:
        results = [r for r in results if r.semester == semester]
    if not results:
        raise ProblemError(404, "not-published", "These marks are not published yet.")
    res = results[0]
    m, c, stt = db.cc_mark, db.class_section, db.class_subject_stat
    rows = conn.execute(
        sa.select(
            m, c.c.level_code, c.c.headcount, stt.c.class_avg, stt.c.class_min, stt.c.class_max
        )
        .join(c, c.c.id == m.c.class_id)
        .outerjoin(
            stt,
            sa.and_(
                stt.c.class_id == m.c.class_id,
                stt.c.school_year == m.c.school_year,
                stt.c.semester == m.c.semester,
                stt.c.subject_code == m.c.subject_code,
            ),
        )
        .where(m.c.student_id == st.id, m.c.school_year == year, m.c.semester == res.semester)
    ).all()
    subjects = []
    class_size = None
    if rows:
        coefs = catalog.LEVEL_SUBJECTS[rows[0].level_code]
        order = {code: i for i, (code, _) in enumerate(coefs)}
        coef = dict(coefs)
        class_size = rows[0].headcount
        for r in sorted(rows, key=lambda r: order.get(r.subject_code, 99)):
            marks = (r.devoir_1, r.devoir_2, r.devoir_3, r.devoir_4)
            assessments = [
                Assessment(
                    kind="devoir",
                    seq=k + 1,
                    score=marks[k],
                    absent=bool(r.absent_mask & (1 << k)),
                    max_score=20,
                    held_on=held_on(year, res.semester, r.class_id, r.subject_code, k + 1),
                )
                for k in range(r.n_devoirs)
            ]
            assessments.append(
                Assessment(kind="activites", seq=1, score=r.activites, max_score=20, held_on=None)
            )
            fr, ar = catalog.SUBJECT_BY_CODE[r.subject_code]
            subjects.append(
                SubjectGrades(
                    code=r.subject_code,
                    name_fr=fr,
                    name_ar=ar,
                    coefficient=coef.get(r.subject_code, 1),
                    assessments=assessments,
                    average=r.average,
                    class_avg=r.class_avg,
                    class_min=r.class_min,
                    class_max=r.class_max,
                )
            )
    out = GradesResponse(
        student_id=sid,
        school_year=catalog.year_code(year),
        semester=res.semester,
        published_at=res.published_at,
        subjects=subjects,
        semester_average=res.average,
        mention=catalog.mention(res.average),
        rank=res.rank,
        class_size=class_size,
    )
    return cached(request, out, TTL_GRADES)


def _encode_cursor(*parts: object) -> str:
    return "a_" + base64.urlsafe_b64encode("|".join(map(str, parts)).encode()).decode().rstrip("=")


def _decode_absence_cursor(cursor: str) -> tuple[str, int]:
    bad = ProblemError(400, "invalid-request", "The cursor is not valid.")
    if not cursor.startswith("a_") or len(cursor) > 64:
        raise bad
    try:
        raw = base64.urlsafe_b64decode(cursor[2:] + "=" * (-len(cursor[2:]) % 4)).decode()
        day, _, key = raw.partition("|")
        date.fromisoformat(day)
        return day, int(key)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise bad from None


@router.get(
    "/students/{sid}/absences",
    response_model=AbsencesResponse,
    responses=responses(*COMMON, 403, 404),
    summary="Absences (newest first), paged, with totals over the whole range",
    description="Range defaults to the start of the clock's school year .. the clock's date; "
    "at most 366 days. `totals` cover every absence matching the filters, not only this page.",
)
def student_absences(
    sid: str,
    on_behalf_of: OnBehalfOf,
    request: Request,
    conn: Conn,
    clock: Clock,
    from_: Annotated[date | None, Query(alias="from")] = None,
    to: date | None = None,
    status: Annotated[str | None, Query(pattern="^(unjustified|justified|rejected)$")] = None,
    kind: Annotated[str | None, Query(pattern="^(absence|late)$")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    st = linked_student(conn, sid, on_behalf_of)
    now = clock.now()
    end = to or now.date()
    start = from_ or date(school_year_of(end), 9, 1)
    if start > end:
        raise ProblemError(400, "invalid-request", "`from` must not be after `to`.")
    if (end - start).days > 366:
        raise ProblemError(400, "invalid-request", "The date range must not exceed 366 days.")
    a = db.absence
    where = [
        a.c.student_id == st.id,
        a.c.date >= start.isoformat(),
        a.c.date <= end.isoformat(),
        a.c.recorded_at <= iso(now),
    ]
    if status:
        where.append(a.c.status == status)
    if kind:
        where.append(a.c.kind == kind)
    totals = conn.execute(
        sa.select(
            sa.func.coalesce(
                sa.func.sum(sa.case((a.c.status == "unjustified", a.c.hours), else_=0)), 0
            ),
            sa.func.coalesce(
                sa.func.sum(sa.case((a.c.status == "justified", a.c.hours), else_=0)), 0
            ),
            sa.func.coalesce(sa.func.sum(sa.case((a.c.kind == "late", 1), else_=0)), 0),
        ).where(*where)
    ).one()
    page_where = list(where)
    if cursor:
        day, key = _decode_absence_cursor(cursor)
        page_where.append(sa.or_(a.c.date < day, sa.and_(a.c.date == day, a.c.id < key)))
    rows = conn.execute(
        sa.select(a).where(*page_where).order_by(a.c.date.desc(), a.c.id.desc()).limit(limit + 1)
    ).all()
    more = len(rows) > limit
    rows = rows[:limit]
    items = [
        AbsenceOut(
            id=ids.encode("abs", r.id),
            date=date.fromisoformat(r.date),
            start_time=r.start_time,
            end_time=r.end_time,
            hours=r.hours,
            subject=subject_ref(r.subject_code) if r.subject_code else None,
            kind=r.kind,
            status=r.status,
            reason_code=r.reason_code,
            recorded_at=r.recorded_at,
        )
        for r in rows
    ]
    out = AbsencesResponse(
        items=items,
        totals=AbsenceTotals(
            unjustified_hours=totals[0], justified_hours=totals[1], late_count=totals[2]
        ),
        next_cursor=_encode_cursor(rows[-1].date, rows[-1].id) if more else None,
    )
    return cached(request, out, TTL_ABSENCES)


@router.get(
    "/students/{sid}/results",
    response_model=ResultsResponse,
    responses=responses(*COMMON, 403, 404),
    summary="Year result and decision",
    description="Defaults to the most recent published year.",
)
def student_results(
    sid: str,
    on_behalf_of: OnBehalfOf,
    request: Request,
    conn: Conn,
    clock: Clock,
    school_year: SchoolYearQ = None,
) -> Response:
    st = linked_student(conn, sid, on_behalf_of)
    now = iso(clock.now())
    yr, sr = db.year_result, db.semester_result
    query = sa.select(yr).where(yr.c.student_id == st.id, yr.c.published_at <= now)
    if school_year is not None:
        query = query.where(yr.c.school_year == year_param(school_year, clock.now()))
    row = conn.execute(query.order_by(yr.c.school_year.desc())).first()
    if row is None:
        raise ProblemError(404, "not-published", "This year's result is not published yet.")
    sems = conn.execute(
        sa.select(sr)
        .where(
            sr.c.student_id == st.id, sr.c.school_year == row.school_year, sr.c.published_at <= now
        )
        .order_by(sr.c.semester)
    ).all()
    out = ResultsResponse(
        student_id=sid,
        school_year=catalog.year_code(row.school_year),
        average=row.average,
        mention=catalog.mention(row.average),
        decision=row.decision,
        orientation=Orientation(stream=row.orientation_stream) if row.orientation_stream else None,
        published_at=row.published_at,
        semesters=[
            SemesterSummary(
                semester=s.semester,
                average=s.average,
                mention=catalog.mention(s.average),
                rank=s.rank,
                published_at=s.published_at,
            )
            for s in sems
        ],
    )
    return cached(request, out, TTL_GRADES)


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


# ---- change feed ---------------------------------------------------------------------------------


def _parse_feed_cursor(cursor: str) -> int:
    if not (cursor.startswith("c_") and cursor[2:].isdigit() and len(cursor) <= 22):
        raise ProblemError(400, "invalid-request", "The cursor is not valid.")
    return int(cursor[2:])


def feed_cursor(seq: int) -> str:
    return f"c_{seq:09d}"


@router.get(
    "/changes",
    response_model=ChangesResponse,
    responses=responses(*COMMON, 410),
    summary="Change feed for notifications (at-least-once, dedupe on `id`)",
    description="Without a cursor, starts at the oldest event still kept (14 days). A cursor older "
    "than the window gets 410 `cursor-expired`: resync from `/changes/head`.",
)
def changes(
    request: Request,
    conn: Conn,
    clock: Clock,
    cursor: Annotated[str | None, Query(max_length=22, examples=["c_000000120"])] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    types: Annotated[
        str | None, Query(max_length=300, examples=["absence.created,grade.published"])
    ] = None,
) -> Response:
    ce, s = db.change_event, db.student
    wanted = None
    if types:
        wanted = [t.strip() for t in types.split(",") if t.strip()]
        if not wanted or any(t not in EVENT_TYPES for t in wanted):
            raise ProblemError(400, "invalid-request", "`types` lists an unknown event type.")
    cut = iso(clock.now() - FEED_WINDOW)
    head = conn.execute(sa.select(sa.func.coalesce(sa.func.max(ce.c.seq), 0))).scalar_one()
    first_kept = conn.execute(
        sa.select(sa.func.min(ce.c.seq)).where(ce.c.occurred_at >= cut)
    ).scalar_one()
    if cursor is None:
        after = (first_kept - 1) if first_kept is not None else head
    else:
        after = _parse_feed_cursor(cursor)
        if after > head:
            raise ProblemError(400, "invalid-request", "The cursor is ahead of the feed.")
        oldest_needed = first_kept if first_kept is not None else head + 1
        if after + 1 < oldest_needed:
            raise ProblemError(
                410, "cursor-expired", "The cursor is older than the 14-day feed window."
            )
    query = (
        sa.select(ce, s.c.first_name_fr, s.c.first_name_ar)
        .outerjoin(s, s.c.id == ce.c.student_id)
        .where(ce.c.seq > after)
        .order_by(ce.c.seq)
        .limit(limit + 1)
    )
    if wanted:
        query = query.where(ce.c.type.in_(wanted))
    rows = conn.execute(query).all()
    more = len(rows) > limit
    rows = rows[:limit]
    items = [
        ChangeEvent(
            id=f"evt_{r.seq:09d}",
            type=r.type,
            occurred_at=r.occurred_at,
            student_id=ids.encode("stu", r.student_id) if r.student_id else None,
            student_first_name_fr=r.first_name_fr,
            student_first_name_ar=r.first_name_ar,
            guardian_ids=json.loads(r.guardian_ids or "[]"),
            data=json.loads(r.data or "{}"),
        )
        for r in rows
    ]
    last = rows[-1].seq if more else max(head, rows[-1].seq if rows else after)
    out = ChangesResponse(items=items, next_cursor=feed_cursor(last), has_more=more)
    return Response(
        out.model_dump_json(), media_type="application/json", headers={"Cache-Control": "no-store"}
    )


@router.get(
    "/changes/head",
    response_model=ChangesHead,
    responses=responses(*COMMON),
    summary="Current feed cursor",
)
def changes_head(conn: Conn) -> ChangesHead:
    head = conn.execute(
        sa.select(sa.func.coalesce(sa.func.max(db.change_event.c.seq), 0))
    ).scalar_one()
    return ChangesHead(cursor=feed_cursor(head))


@router.get(
    "/meta",
    response_model=Meta,
    responses=responses(*COMMON),
    summary="School year, semester, clock",
)
def meta(clock: Clock) -> Meta:
    now = clock.now()
    return Meta(
        api_version="1",
        school_year=catalog.year_code(school_year_of(now.date())),
        semester=semester_of(now.date()),
        now=iso(now),
    )
