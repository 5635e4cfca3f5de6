"""The `/api/v1` contract of DOMAIN §8, students' reads (sync `def`s on a pooled engine);
guardians, enrolment and the change feed have their own modules (`sandbox/app.py` mounts them)."""

from __future__ import annotations

import base64
import binascii
from datetime import date, timedelta
from typing import Annotated

import sqlalchemy as sa
from fastapi import Query, Request
from fastapi.responses import Response

from sandbox import catalog, db, ids
from sandbox.absence_rule import absence_totals, range_conditions
from sandbox.api.common import (
    COMMON,
    TTL_ABSENCES,
    TTL_GRADES,
    TTL_GUARDIAN,
    SchoolYearQ,
    api_router,
    level_ref,
    linked_student,
    mask,
    subject_ref,
    year_param,
)
from sandbox.api.deps import (
    Clock,
    Conn,
    OnBehalfOf,
    cached,
)
from sandbox.clock import iso, school_year_of
from sandbox.problems import ProblemError, responses
from sandbox.schemas import (
    AbsenceOut,
    AbsencesResponse,
    AbsenceTotals,
    Assessment,
    GradesResponse,
    Orientation,
    ResultsResponse,
    SchoolRef,
    SemesterSummary,
    StudentProfile,
    SubjectGrades,
)

router = api_router()


# ---- students ------------------------------------------------------------------------------------


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
    where = range_conditions(st.id, start, end, now)
    if status:
        where.append(a.c.status == status)
    if kind:
        where.append(a.c.kind == kind)
    # DOMAIN.md §4 "What counts", in one function (`sandbox/absence_rule.py`) that the change
    # feed's running totals use too.
    totals = absence_totals(conn, where)
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
        totals=AbsenceTotals(**totals),
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
