"""Guardians by phone or id, and the binding check (DOMAIN §3, §8)."""

from __future__ import annotations

import hmac
from datetime import date

import sqlalchemy as sa
from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.engine import Connection

from sandbox import db, ids, service
from sandbox.api.common import (
    COMMON,
    TTL_GUARDIAN,
    _guardian_or_404,
    api_router,
    level_ref,
    mask,
)
from sandbox.api.deps import (
    Clock,
    Conn,
    cached,
    guardian_key,
)
from sandbox.problems import ProblemError, responses
from sandbox.schemas import (
    GuardianContact,
    GuardianLookupRequest,
    GuardianLookupResponse,
    GuardianOut,
    GuardiansBatchRequest,
    GuardiansBatchResponse,
    GuardianStudentsResponse,
    SchoolRef,
    StudentSummary,
    VerifyRequest,
    VerifyResponse,
)

router = api_router()


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


@router.post(
    "/guardians/batch",
    response_model=GuardiansBatchResponse,
    responses=responses(*COMMON),
    summary="Guardians and their registered phones, by id (up to 500 per call)",
    description="For pushing alerts: the change feed names guardian ids, this names their phones "
    "and preferred language, and whether the school lets notices reach them (`may_notify`, per "
    "link: `no_notice_students` lists the children a guardian must not be told about). Unknown "
    "ids are left out of `items`; order follows the ids.",
)
def guardians_batch(body: GuardiansBatchRequest, conn: Conn) -> Response:
    keys = {gid: guardian_key(gid) for gid in dict.fromkeys(body.ids)}
    wanted = [k for k in keys.values() if k is not None]
    g, gp = db.guardian, db.guardian_phone
    found = {
        r.id: r
        for r in conn.execute(
            sa.select(g.c.id, g.c.first_name_fr, g.c.first_name_ar, g.c.preferred_lang).where(
                g.c.id.in_(wanted)
            )
        )
    }
    phones: dict[int, list[str]] = {}
    for r in conn.execute(
        sa.select(gp.c.guardian_id, gp.c.e164)
        .where(gp.c.guardian_id.in_(wanted))
        .order_by(gp.c.guardian_id, gp.c.is_primary.desc(), gp.c.id)
    ):
        phones.setdefault(r.guardian_id, []).append(r.e164)
    # `may_notify` is per link (guardian, child): the children a guardian must not be told
    # about, and whether any link allows notices at all.
    gs = db.guardian_student
    allowed: dict[int, bool] = {}
    silenced: dict[int, list[str]] = {}
    for r in conn.execute(
        sa.select(gs.c.guardian_id, gs.c.student_id, gs.c.may_notify)
        .where(gs.c.guardian_id.in_(wanted))
        .order_by(gs.c.guardian_id, gs.c.student_id)
    ):
        if r.may_notify == 0:
            silenced.setdefault(r.guardian_id, []).append(ids.encode("stu", r.student_id))
        else:
            allowed[r.guardian_id] = True
    items = [
        GuardianContact(
            id=gid,
            first_name_fr=row.first_name_fr,
            first_name_ar=row.first_name_ar,
            preferred_lang=row.preferred_lang,
            phones=phones.get(row.id, []),
            may_notify=allowed.get(row.id, row.id not in silenced),
            no_notice_students=silenced.get(row.id, []),
        )
        for gid, key in keys.items()
        if key is not None and (row := found.get(key)) is not None
    ]
    return Response(
        GuardiansBatchResponse(items=items).model_dump_json(),
        media_type="application/json",
        headers={"Cache-Control": "no-store"},
    )
