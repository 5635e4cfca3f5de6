"""Domain rules shared by the routes: phones, lockouts, the change outbox, publishing, statuses."""

from __future__ import annotations

import hashlib
import json
import random
from datetime import datetime, timedelta
from typing import Any

import phonenumbers
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sandbox import catalog, db, ids
from sandbox.absence_rule import running_totals
from sandbox.clock import iso
from sandbox.problems import ProblemError
from sandbox.seed import SUBJECT_PLAN, cc_marks, semester_average

# ---- phones --------------------------------------------------------------------------------------


def normalise_phone(raw: str) -> str:
    """Any Moroccan form (0612…, 00212…, 212…, +212…) -> E.164; ProblemError 400 otherwise."""
    text = raw.strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    elif text.startswith("212"):
        text = "+" + text
    try:
        number = phonenumbers.parse(text, "MA")
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_possible_number(number):
        raise ProblemError(400, "invalid-request", "The phone number is not a valid number.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# ---- lockouts (DOMAIN §3) ------------------------------------------------------------------------

WINDOW = timedelta(hours=24)
PHONE_RULES = [(5, timedelta(hours=24)), (3, timedelta(minutes=15))]
CODE_RULES = [(10, timedelta(hours=24))]
APPLICATION_RULES = [(5, timedelta(hours=24))]


def _key(kind: str, value: str) -> str:
    return kind + ":" + hashlib.sha256(value.encode()).hexdigest()[:40]


def locked_for(conn: Connection, kind: str, value: str, now: datetime) -> int:
    """Seconds left on a lock for this key (0 when not locked)."""
    row = conn.execute(
        sa.select(db.verification_counter.c.locked_until).where(
            db.verification_counter.c.key == _key(kind, value)
        )
    ).first()
    if row is None or row.locked_until is None:
        return 0
    until = datetime.fromisoformat(row.locked_until)
    return max(0, int((until - now).total_seconds() + 0.999))


def record_failure(
    conn: Connection, kind: str, value: str, now: datetime, rules: list[tuple[int, timedelta]]
) -> None:
    key = _key(kind, value)
    t = db.verification_counter
    row = conn.execute(sa.select(t).where(t.c.key == key)).first()
    if row is None or datetime.fromisoformat(row.window_start) + WINDOW <= now:
        failures, start = 1, now
    else:
        failures, start = row.failures + 1, datetime.fromisoformat(row.window_start)
    locked_until = row.locked_until if row is not None else None
    for threshold, duration in rules:
        if failures == threshold or (threshold == rules[0][0] and failures > threshold):
            locked_until = iso(now + duration)
            break
    values = {"failures": failures, "window_start": iso(start), "locked_until": locked_until}
    if row is None:
        conn.execute(sa.insert(t).values(key=key, **values))
    else:
        conn.execute(sa.update(t).where(t.c.key == key).values(**values))


def reset_counter(conn: Connection, kind: str, value: str) -> None:
    conn.execute(
        sa.delete(db.verification_counter).where(db.verification_counter.c.key == _key(kind, value))
    )


def locked_problem(seconds: int) -> ProblemError:
    return ProblemError(
        429,
        "verification-locked",
        "Too many failed attempts; contact the school or try again later.",
        headers={"Retry-After": str(max(seconds, 1))},
    )


# ---- change outbox -------------------------------------------------------------------------------


def guardian_ids_of(conn: Connection, student_id: int) -> list[str]:
    rows = conn.execute(
        sa.select(db.guardian_student.c.guardian_id)
        .where(db.guardian_student.c.student_id == student_id)
        .order_by(db.guardian_student.c.guardian_id)
    )
    return [ids.encode("gdn", r.guardian_id) for r in rows]


def emit(
    conn: Connection,
    type_: str,
    now: datetime,
    student_id: int | None,
    guardian_ids: list[str],
    data: dict[str, Any],
) -> None:
    """Write a change event in the caller's transaction (outbox)."""
    conn.execute(
        sa.insert(db.change_event).values(
            type=type_,
            occurred_at=iso(now),
            student_id=student_id,
            guardian_ids=json.dumps(guardian_ids),
            data=json.dumps(data),
        )
    )


TOTALS_KEY = "totals"  # where an absence event keeps its running totals (served on their own)


def emit_absence(
    conn: Connection, type_: str, now: datetime, student_id: int, data: dict[str, Any]
) -> None:
    """An `absence.*` event, with the child's running totals after the change (the caller
    has already written it, in this transaction)."""
    totals = running_totals(conn, student_id, now)
    emit(
        conn,
        type_,
        now,
        student_id,
        guardian_ids_of(conn, student_id),
        {**data, TOTALS_KEY: totals},
    )


# ---- publishing marks ----------------------------------------------------------------------------


def publish_semester(
    conn: Connection, student_ids: list[int], year: int, semester: int, now: datetime, seed: int
) -> tuple[int, int]:
    """Enter (if missing) and publish a semester's marks; returns (published, already)."""
    published = already = 0
    touched_classes: set[int] = set()
    when = iso(now)
    for sid in student_ids:
        enrol = conn.execute(
            sa.select(db.enrollment.c.class_id, db.class_section.c.level_code)
            .join(db.class_section, db.class_section.c.id == db.enrollment.c.class_id)
            .where(db.enrollment.c.student_id == sid, db.enrollment.c.school_year == year)
        ).first()
        if enrol is None:
            continue
        existing = conn.execute(
            sa.select(db.semester_result.c.published_at).where(
                db.semester_result.c.student_id == sid,
                db.semester_result.c.school_year == year,
                db.semester_result.c.semester == semester,
            )
        ).first()
        if (
            existing is not None
            and existing.published_at is not None
            and existing.published_at <= when
        ):
            already += 1
            continue
        plan = SUBJECT_PLAN[enrol.level_code]
        have = conn.execute(
            sa.select(sa.func.count())
            .select_from(db.cc_mark)
            .where(
                db.cc_mark.c.student_id == sid,
                db.cc_mark.c.school_year == year,
                db.cc_mark.c.semester == semester,
            )
        ).scalar_one()
        if not have:
            prior = conn.execute(
                sa.select(sa.func.avg(db.semester_result.c.average)).where(
                    db.semester_result.c.student_id == sid
                )
            ).scalar_one()
            rng = random.Random(f"{seed}:publish:{sid}:{year}:{semester}")
            offsets = [rng.gauss(0, 1.1) * 4 for _ in plan]
            marks = cc_marks(rng.getrandbits, float(prior or 11.0) * 4, offsets, plan)
            conn.execute(
                sa.insert(db.cc_mark),
                [
                    {
                        "student_id": sid,
                        "school_year": year,
                        "semester": semester,
                        "subject_code": m[0],
                        "class_id": enrol.class_id,
                        "devoir_1": m[1],
                        "devoir_2": m[2],
                        "devoir_3": m[3],
                        "devoir_4": None,
                        "activites": m[5],
                        "n_devoirs": m[4],
                        "absent_mask": m[6],
                        "average": m[7],
                    }
                    for m in marks
                ],
            )
            average = semester_average(marks, plan)
        else:
            rows = conn.execute(
                sa.select(db.cc_mark.c.subject_code, db.cc_mark.c.average).where(
                    db.cc_mark.c.student_id == sid,
                    db.cc_mark.c.school_year == year,
                    db.cc_mark.c.semester == semester,
                )
            ).all()
            coef = dict(catalog.LEVEL_SUBJECTS[enrol.level_code])
            pairs = [
                (r.average, coef.get(r.subject_code, 1)) for r in rows if r.average is not None
            ]
            weight = sum(c for _, c in pairs)
            average = round(sum(a * c for a, c in pairs) / weight, 2) if weight else None
        if existing is None:
            conn.execute(
                sa.insert(db.semester_result).values(
                    student_id=sid,
                    school_year=year,
                    semester=semester,
                    average=average,
                    rank=None,
                    published_at=when,
                )
            )
        else:
            conn.execute(
                sa.update(db.semester_result)
                .where(
                    db.semester_result.c.student_id == sid,
                    db.semester_result.c.school_year == year,
                    db.semester_result.c.semester == semester,
                )
                .values(average=average, published_at=when)
            )
        touched_classes.add(enrol.class_id)
        gids = guardian_ids_of(conn, sid)
        data = {"school_year": catalog.year_code(year), "semester": semester}
        emit(conn, "grade.published", now, sid, gids, data)
        emit(
            conn,
            "semester_result.published",
            now,
            sid,
            gids,
            {**data, "mention": catalog.mention(average)},
        )
        published += 1
    for class_id in touched_classes:
        _refresh_class_stats(conn, class_id, year, semester)
    return published, already


def _refresh_class_stats(conn: Connection, class_id: int, year: int, semester: int) -> None:
    m = db.cc_mark
    rows = conn.execute(
        sa.select(
            m.c.subject_code,
            sa.func.avg(m.c.average),
            sa.func.min(m.c.average),
            sa.func.max(m.c.average),
        )
        .where(
            m.c.class_id == class_id,
            m.c.school_year == year,
            m.c.semester == semester,
            m.c.average.is_not(None),
        )
        .group_by(m.c.subject_code)
    ).all()
    st = db.class_subject_stat
    conn.execute(
        sa.delete(st).where(
            st.c.class_id == class_id, st.c.school_year == year, st.c.semester == semester
        )
    )
    if rows:
        conn.execute(
            sa.insert(st),
            [
                {
                    "class_id": class_id,
                    "school_year": year,
                    "semester": semester,
                    "subject_code": code,
                    "class_avg": round(avg, 2),
                    "class_min": lo,
                    "class_max": hi,
                }
                for code, avg, lo, hi in rows
            ],
        )


# ---- application status machines (DOMAIN §5) -----------------------------------------------------

TRANSITIONS: dict[str, dict[str, set[str]]] = {
    "first_grade": {
        "submitted": {"under_review", "cancelled"},
        "under_review": {"approved", "rejected", "waitlisted"},
        "approved": {"enrolled"},
        "waitlisted": {"approved", "rejected"},
    },
    "transfer": {
        "requested": {"released_by_origin", "rejected"},
        "released_by_origin": {"accepted_by_destination", "rejected"},
        "accepted_by_destination": {"completed", "rejected"},
    },
    "reregistration": {"pending": {"confirmed", "not_returned"}},
}
REJECTION_REASONS = {
    "age_not_met",
    "outside_catchment",
    "incomplete_civil_status",
    "duplicate_application",
    "capacity_full",
}


def allowed(kind: str, current: str, target: str) -> bool:
    return target in TRANSITIONS.get(kind, {}).get(current, set())
