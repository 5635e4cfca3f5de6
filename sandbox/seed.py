"""Deterministic synthetic data: `seed_database(url, students=N, seed=S, now=T)`.

Everything comes from `seed` and `now`: a plan (schools, classes, headcounts) from one RNG, then one
RNG per school generates that school's students, guardians, marks, absences and applications.
Integer keys are derived from the plan (guardians of student s are 3s..3s+2, their phones 2g and
2g+1, and so on), so every school is generated independently and ids never collide. Rows are plain
tuples written in big batches (sqlite3 `executemany`, PostgreSQL `COPY`); secondary indexes are
built at the end.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from sandbox import catalog, db, demo, ids
from sandbox.catalog import LEVEL_BY_CODE, LEVEL_SUBJECTS, PREVIOUS_LEVEL

log = logging.getLogger("sandbox.seed")

PUBLISHED = {
    (2024, 1): "2025-02-04T18:00:00+01:00",
    (2024, 2): "2025-07-01T18:00:00+01:00",
    (2025, 1): "2026-02-03T18:00:00+01:00",
}
YEAR_PUBLISHED = {2024: "2025-07-03T18:00:00+01:00"}
EVENT_WINDOW = timedelta(days=14)
FLUSH_ROWS = 250_000

# Marks are computed in quarter points (0..80 = 0..20) with a precomputed noise table.
_QUARTERS = [q / 4 for q in range(81)]
_NOISE_RNG = random.Random(7)
_NOISE = [_NOISE_RNG.gauss(0.0, 2.2) * 4 for _ in range(4096)]
_SLOTS = ["08:30", "09:30", "10:30", "14:30", "15:30"]
_REASONS = ["medical"] * 6 + ["family"] * 3 + ["administrative", "other"]
_OPERATORS = ["iam", "orange", "inwi", "iam", "orange", "inwi", "other"]
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


def ts(d: date, hhmm: str, minutes: int = 0) -> str:
    """An ISO timestamp at +01:00."""
    h, m = int(hhmm[:2]), int(hhmm[3:]) + minutes
    h, m = h + m // 60, m % 60
    return f"{d.isoformat()}T{h:02d}:{m:02d}:00+01:00"


def iso_now(now: datetime) -> str:
    return now.strftime("%Y-%m-%dT%H:%M:%S+01:00")


def subject_plan(level_code: str) -> list[tuple[str, int, int, float]]:
    """(subject, coefficient, number of supervised tests, weight of the tests) for a level."""
    cycle = LEVEL_BY_CODE[level_code].cycle
    out = []
    for code, coef in LEVEL_SUBJECTS[level_code]:
        n_dev = 2 if cycle == "primaire" or coef <= 2 else 3
        out.append((code, coef, n_dev, 0.6 if code == "EN" else 0.75))
    return out


SUBJECT_PLAN = {code: subject_plan(code) for code in LEVEL_BY_CODE}


def cc_marks(
    getbits: Callable[[int], int],
    ability4: float,
    offsets: list[float],
    plan: list[tuple[str, int, int, float]],
) -> list[tuple[str, Any, Any, Any, int, float, int, int, float | None]]:
    """One semester of marks: (subject, d1, d2, d3, n_devoirs, activites, absent_mask, average)."""
    noise = _NOISE
    quarters = _QUARTERS
    out = []
    for j, (code, _coef, n_dev, w) in enumerate(plan):
        base = ability4 + offsets[j]
        r = getbits(64)
        x = base + noise[r & 4095]
        d1 = quarters[0 if x < 0 else (80 if x > 79.5 else int(x + 0.5))]
        x = base + noise[(r >> 12) & 4095]
        d2 = quarters[0 if x < 0 else (80 if x > 79.5 else int(x + 0.5))]
        x = base + 6 + noise[(r >> 36) & 4095]
        act = quarters[0 if x < 0 else (80 if x > 79.5 else int(x + 0.5))]
        mask = 0
        if (r >> 48) & 127 == 0:
            d1, mask = None, 1
        if (r >> 55) & 127 == 0:
            d2, mask = None, mask | 2
        if n_dev == 3:
            x = base + noise[(r >> 24) & 4095]
            d3 = quarters[0 if x < 0 else (80 if x > 79.5 else int(x + 0.5))]
            present = [v for v in (d1, d2, d3) if v is not None]
        else:
            d3 = None
            present = [v for v in (d1, d2) if v is not None]
        avg = round(w * sum(present) / len(present) + (1 - w) * act, 2) if present else None
        out.append((code, d1, d2, d3, n_dev, act, mask, avg))
    return out


def semester_average(marks: list[Any], plan: list[tuple[str, int, int, float]]) -> float | None:
    total = weight = 0.0
    for row, (_code, coef, _n, _w) in zip(marks, plan, strict=True):
        if row[7] is not None:
            total += row[7] * coef
            weight += coef
    return round(total / weight, 2) if weight else None


@dataclass(slots=True)
class ClassPlan:
    id: int
    level: str
    label: str
    n_random: int
    first_student_id: int
    prev_id: int = 0
    prev_school_id: int = 0
    prev_label: str = ""
    rep_id: int = 0
    demo: demo.DemoStudent | None = None


@dataclass(slots=True)
class SchoolPlan:
    id: int
    cycle: str
    name_fr: str
    name_ar: str
    province_id: int
    setting: str
    pass_threshold: float
    classes: list[ClassPlan] = field(default_factory=list)


_LYCEE_CORE = ["TCS", "TCLSH", "1BAC-SE", "1BAC-LSH", "2BAC-PC", "2BAC-SVT", "2BAC-L"]
_LYCEE_EXTRA = ["TCT", "1BAC-SM", "1BAC-SEG", "2BAC-SMA", "2BAC-ECO"]
_CYCLE_LEVELS = {
    "primaire": ["1AP", "2AP", "3AP", "4AP", "5AP", "6AP"],
    "college": ["1AC", "2AC", "3AC"],
}
_DEMO_BY_SCHOOL = {s.school_index: s for s in demo.STUDENTS}


def make_plan(n_students: int, seed: int) -> list[SchoolPlan]:
    """Schools and classes until `n_students` random students are placed (plus the demo ones)."""
    rng = random.Random(f"{seed}:plan")
    schools: list[SchoolPlan] = []
    next_student = demo.FIRST_RANDOM_STUDENT_ID
    remaining = n_students
    class_id = 0
    i = 0
    while remaining > 0 or i < 3:
        cycle = (
            ["primaire", "college", "lycee"][i]
            if i < 3
            else rng.choices(["primaire", "college", "lycee"], weights=[50, 28, 22])[0]
        )
        name_fr, name_ar = rng.choice(catalog.SCHOOL_NAMES[cycle])
        setting = "rural" if rng.random() < 0.3 else "urban"
        if cycle == "primaire" and setting == "rural":
            name_fr, name_ar = catalog.SCHOOL_NAMES["primaire"][2]
        school = SchoolPlan(
            id=i + 1,
            cycle=cycle,
            name_fr=name_fr,
            name_ar=name_ar,
            province_id=rng.randrange(len(catalog.PROVINCES)) + 1,
            setting=setting,
            pass_threshold=10.0 if rng.random() < 0.9 else 9.0,
        )
        if cycle == "lycee":
            levels = _LYCEE_CORE + [lv for lv in _LYCEE_EXTRA if rng.random() < 0.4]
        else:
            levels = list(_CYCLE_LEVELS[cycle])
        demo_student = _DEMO_BY_SCHOOL.get(i)
        if demo_student is not None:
            levels.remove(demo_student.level_code)
            levels.insert(0, demo_student.level_code)
        for lv in levels:
            n_classes = 1 + (rng.random() < (0.3 if cycle == "primaire" else 0.5))
            for k in range(1, n_classes + 1):
                is_demo_class = (
                    demo_student is not None and lv == demo_student.level_code and k == 1
                )
                if remaining <= 0 and not is_demo_class:
                    break
                size = min(remaining, rng.randint(24, 38))
                biof = cycle != "primaire" and (
                    rng.random() < 0.4 or (is_demo_class and cycle == "lycee")
                )
                class_id += 1
                label = f"{lv}{'F' if biof else ''}-{k}"
                cp = ClassPlan(class_id, lv, label, size, next_student)
                if is_demo_class:
                    cp.demo = demo_student
                school.classes.append(cp)
                next_student += size
                remaining -= size
        schools.append(school)
        i += 1
    # previous-year shadow classes: the cohort's class last year and the repeaters' class
    n_classes = class_id
    by_cycle: dict[str, list[SchoolPlan]] = defaultdict(list)
    for s in schools:
        by_cycle[s.cycle].append(s)
    for s in schools:
        for cp in s.classes:
            prev = PREVIOUS_LEVEL[cp.level]
            cp.rep_id = 2 * n_classes + cp.id
            if prev is None:
                continue
            prev_cycle = LEVEL_BY_CODE[prev].cycle
            feeder = s if prev_cycle == s.cycle else rng.choice(by_cycle.get(prev_cycle) or [s])
            cp.prev_id = n_classes + cp.id
            cp.prev_school_id = feeder.id
            f = "F" if "F-" in cp.label and prev_cycle != "primaire" else ""
            cp.prev_label = f"{prev}{f}-{cp.label.rsplit('-', 1)[1]}"
    return schools


@dataclass(slots=True)
class Context:
    seed: int
    now: datetime
    now_iso: str
    event_cut: str
    school_days: list[date]
    primary_school_ids: list[int]
    province_names: list[tuple[str, str]]
    birth_dates: dict[int, list[str]]


class Rows(defaultdict[str, list[tuple[Any, ...]]]):
    def __init__(self) -> None:
        super().__init__(list)


def _birth_dates(year: int) -> list[str]:
    start = date(year, 1, 1)
    return [(start + timedelta(days=d)).isoformat() for d in range(365)]


def generate_school(
    school: SchoolPlan, ctx: Context, rows: Rows, events: list[tuple[Any, ...]]
) -> None:
    """All rows of one school's current classes and their students."""
    rng = random.Random(f"{ctx.seed}:school:{school.id}")
    getbits = rng.getrandbits
    rand = rng.random
    families: list[
        tuple[str, str, list[tuple[int, str]], str, str]
    ] = []  # last fr/ar, links, father fr/ar
    prov_fr, prov_ar = ctx.province_names[school.province_id - 1]
    school_days = ctx.school_days
    n_days = len(school_days)
    cut = ctx.event_cut
    now_date = ctx.now.date()
    stats: dict[tuple[int, int, int, str], list[float]] = defaultdict(list)
    ranks: dict[tuple[int, int, int], list[list[Any]]] = defaultdict(list)
    out_student = rows["student"]
    out_enrol = rows["enrollment"]
    out_guardian = rows["guardian"]
    out_phone = rows["guardian_phone"]
    out_link = rows["guardian_student"]
    out_cc = rows["cc_mark"]
    out_year = rows["year_result"]
    out_abs = rows["absence"]
    out_app = rows["enrolment_application"]
    out_hist = rows["enrolment_status_history"]
    for cp in school.classes:
        level = LEVEL_BY_CODE[cp.level]
        plan_now = SUBJECT_PLAN[cp.level]
        prev_level = PREVIOUS_LEVEL[cp.level]
        plan_prev = SUBJECT_PLAN[prev_level] if prev_level else []
        n_subj = len(plan_now)
        headcount = cp.n_random + (1 if cp.demo else 0)
        rows["class_section"].append((cp.id, school.id, 2025, cp.level, cp.label, headcount))
        n_rep = 0
        entry_year = 2025 - level.order
        for idx in range(headcount):
            dm = cp.demo if idx == 0 else None
            sid = dm.id if dm else cp.first_student_id + idx - (1 if cp.demo else 0)
            repeater = dm is None and prev_level is not None and rand() < 0.08
            if dm is not None:
                links = [
                    (g.id, rel) for g in demo.GUARDIANS for s_id, rel in g.children if s_id == sid
                ]
                father_fr, father_ar = ("Rachid", "رشيد") if sid != 3 else ("Karim", "كريم")
                row = (
                    sid,
                    dm.massar_code,
                    dm.first_name_fr,
                    dm.first_name_ar,
                    dm.last_name_fr,
                    dm.last_name_ar,
                    father_fr,
                    father_ar,
                    dm.gender,
                    dm.birth_date,
                    prov_fr,
                    prov_ar,
                    "active",
                    cp.id,
                )
                ability4 = dm.ability * 4
            else:
                if families and rand() < 0.15:
                    last_fr, last_ar, links, father_fr, father_ar = families[
                        getbits(16) % len(families)
                    ]
                else:
                    last_fr, last_ar = catalog.FAMILY[getbits(16) % 22]
                    links = []
                    g0 = 3 * sid
                    shape = getbits(4)  # 0-5: one guardian, 6-14: two, 15: three
                    members = (
                        [("mother",)]
                        if shape < 3
                        else [("father",)]
                        if shape < 6
                        else [("father",), ("mother",)]
                    )
                    if shape == 15:
                        members.append(("tutor",))
                    father_fr, father_ar = catalog.MALE[getbits(16) % 22]
                    for k, (rel,) in enumerate(members):
                        gid = g0 + k
                        if rel == "father":
                            gf, ga, lf, la = father_fr, father_ar, last_fr, last_ar
                        elif rel == "mother":
                            gf, ga = catalog.FEMALE[getbits(16) % 22]
                            lf, la = catalog.FAMILY[getbits(16) % 22]
                        else:
                            gf, ga = catalog.MALE[getbits(16) % 22]
                            lf, la = catalog.FAMILY[getbits(16) % 22]
                        lang = "fr" if getbits(3) < 3 else "ar"
                        out_guardian.append((gid, gf, ga, lf, la, f"ZZ{getbits(20):06d}", lang))
                        out_phone.append(
                            (2 * gid, gid, ids.phone_e164(2 * gid), _OPERATORS[getbits(8) % 7], 1)
                        )
                        if getbits(4) == 0:
                            out_phone.append(
                                (
                                    2 * gid + 1,
                                    gid,
                                    ids.phone_e164(2 * gid + 1),
                                    _OPERATORS[getbits(8) % 7],
                                    0,
                                )
                            )
                        links.append((gid, rel))
                    families.append((last_fr, last_ar, links, father_fr, father_ar))
                    if len(families) > 300:
                        del families[:100]
                    # a younger sibling's first-grade pre-registration (2026 window)
                    if getbits(5) == 0 and ctx.primary_school_ids:
                        _first_grade_application(
                            rng, ctx, sid, links[0][0], last_fr, last_ar, rows, events
                        )
                male = getbits(1) == 0
                first_fr, first_ar = (catalog.MALE if male else catalog.FEMALE)[getbits(16) % 22]
                born = entry_year - 6 - (1 if repeater else 0)
                bd = ctx.birth_dates.get(born)
                if bd is None:
                    bd = ctx.birth_dates[born] = _birth_dates(born)
                place_fr, place_ar = (
                    (prov_fr, prov_ar)
                    if getbits(3)
                    else ctx.province_names[getbits(16) % len(ctx.province_names)]
                )
                row = (
                    sid,
                    ids.massar_code(sid),
                    first_fr,
                    first_ar,
                    last_fr,
                    last_ar,
                    father_fr,
                    father_ar,
                    "M" if male else "F",
                    bd[getbits(16) % 365],
                    place_fr,
                    place_ar,
                    "active",
                    cp.id,
                )
                ability4 = (11.5 + _NOISE[getbits(12)] * 0.65 / 4 + (-2.5 if repeater else 0)) * 4
            out_student.append(row)
            guardian_ids = json.dumps([ids.encode("gdn", g) for g, _ in links])
            for gid, rel in links:
                out_link.append((gid, sid, rel, 1, 1))
            # marks: last year (two semesters and the decision), this year's first semester
            offsets = [_NOISE[getbits(12)] * 0.5 for _ in range(max(n_subj, len(plan_prev)))]
            out_enrol.append((sid, 2025, cp.id, "confirmed"))
            if prev_level is not None:
                prev_class = cp.rep_id if repeater else cp.prev_id
                out_enrol.append((sid, 2024, prev_class, "confirmed"))
                plan_last = SUBJECT_PLAN[cp.level] if repeater else plan_prev
                sem_avgs = []
                for sem in (1, 2):
                    marks = cc_marks(
                        getbits, ability4 - 2 if repeater else ability4, offsets, plan_last
                    )
                    for m in marks:
                        out_cc.append(
                            (
                                sid,
                                2024,
                                sem,
                                m[0],
                                prev_class,
                                m[1],
                                m[2],
                                m[3],
                                None,
                                m[5],
                                m[4],
                                m[6],
                                m[7],
                            )
                        )
                        if m[7] is not None:
                            stats[(prev_class, 2024, sem, m[0])].append(m[7])
                    avg = semester_average(marks, plan_last)
                    sem_avgs.append(avg)
                    ranks[(prev_class, 2024, sem)].append([sid, avg])
                year_avg = (
                    round((sem_avgs[0] + sem_avgs[1]) / 2, 2) if None not in sem_avgs else None
                )
                if repeater:
                    decision, stream = "repeat", None
                    n_rep += 1
                elif level.order in (9, 10) and level.cycle == "lycee":
                    decision, stream = "oriented", cp.level
                else:
                    decision, stream = "promoted", None
                out_year.append((sid, 2024, year_avg, decision, stream, YEAR_PUBLISHED[2024]))
            marks = cc_marks(getbits, ability4, offsets, plan_now)
            for m in marks:
                out_cc.append(
                    (sid, 2025, 1, m[0], cp.id, m[1], m[2], m[3], None, m[5], m[4], m[6], m[7])
                )
                if m[7] is not None:
                    stats[(cp.id, 2025, 1, m[0])].append(m[7])
            ranks[(cp.id, 2025, 1)].append([sid, semester_average(marks, plan_now)])
            # absences this school year, up to the clock
            if dm is not None:
                _demo_absences(sid, cp.id, ctx, out_abs, events, guardian_ids)
            elif n_days:
                n_abs = (0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 5, 7)[getbits(8) % 12]
                for a in range(n_abs):
                    r = getbits(48)
                    day = school_days[(r & 0xFFFF) % n_days]
                    start = _SLOTS[(r >> 16) % 5]
                    late = (r >> 20) & 7 == 0
                    hours = 1 if late or (r >> 23) & 1 else 2
                    subj = None if late else plan_now[(r >> 24) % n_subj][0]
                    recorded = ts(day, start, 10 + (r >> 28) % 50)
                    old = (now_date - day).days > 14
                    s = (r >> 34) % 20
                    justified_at = reason = None
                    if (old and s < 9) or (not old and s < 2):
                        status = "justified"
                        reason = _REASONS[(r >> 40) % 11]
                        jd = min(day + timedelta(days=1 + (r >> 44) % 5), now_date)
                        justified_at = ts(jd, "11:00", (r >> 28) % 50)
                    elif old and s >= 18:
                        status = "rejected"
                    else:
                        status = "unjustified"
                    aid = sid * 16 + a
                    end = f"{int(start[:2]) + hours:02d}{start[2:]}"
                    out_abs.append(
                        (
                            aid,
                            sid,
                            cp.id,
                            day.isoformat(),
                            start,
                            end,
                            hours,
                            subj,
                            "late" if late else "absence",
                            status,
                            reason,
                            recorded,
                            justified_at,
                        )
                    )
                    if recorded >= cut:
                        events.append(
                            (
                                recorded,
                                "absence.created",
                                sid,
                                guardian_ids,
                                json.dumps(
                                    {
                                        "absence_id": ids.encode("abs", aid),
                                        "date": day.isoformat(),
                                        "hours": hours,
                                        "kind": "late" if late else "absence",
                                        "status": "unjustified",
                                    }
                                ),
                            )
                        )
                    if justified_at is not None and justified_at >= cut:
                        events.append(
                            (
                                justified_at,
                                "absence.updated",
                                sid,
                                guardian_ids,
                                json.dumps(
                                    {
                                        "absence_id": ids.encode("abs", aid),
                                        "date": day.isoformat(),
                                        "hours": hours,
                                        "kind": "late" if late else "absence",
                                        "status": status,
                                    }
                                ),
                            )
                        )
            if dm is None and getbits(8) == 0:
                _transfer_application(
                    rng, ctx, sid, links[0][0] if links else None, row, school.id, rows, events
                )
        if prev_level is not None:
            rows["class_section"].append(
                (cp.prev_id, cp.prev_school_id, 2024, prev_level, cp.prev_label, headcount - n_rep)
            )
            if n_rep:
                rows["class_section"].append(
                    (cp.rep_id, school.id, 2024, cp.level, cp.label, n_rep)
                )
    out_stat = rows["class_subject_stat"]
    for (class_id, year, sem, code), values in stats.items():
        out_stat.append(
            (
                class_id,
                year,
                sem,
                code,
                round(sum(values) / len(values), 2),
                min(values),
                max(values),
            )
        )
    out_sem = rows["semester_result"]
    for (_class_id, year, sem), members in ranks.items():
        members.sort(key=lambda m: -1.0 if m[1] is None else m[1], reverse=True)
        for rank, (sid, avg) in enumerate(members, 1):
            out_sem.append(
                (sid, year, sem, avg, rank if avg is not None else None, PUBLISHED[(year, sem)])
            )
    del out_hist, out_app


def _history(rows: Rows, app_id: int, steps: list[tuple[str, str, str, str | None]]) -> None:
    prev = None
    for j, (to, at, actor, reason) in enumerate(steps):
        rows["enrolment_status_history"].append(
            (app_id * 8 + j, app_id, prev, to, reason, actor, at)
        )
        prev = to


def _first_grade_application(
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
    _history(rows, app_id, steps)
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


def _transfer_application(
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
    _history(rows, app_id, steps)


def _demo_absences(
    sid: int,
    class_id: int,
    ctx: Context,
    out: list[tuple[Any, ...]],
    events: list[tuple[Any, ...]],
    gids: str,
) -> None:
    for a, (s, day, start, hours, subj, kind, status, reason) in enumerate(demo.ABSENCES):
        if s != sid or date.fromisoformat(day) > ctx.now.date():
            continue
        aid = sid * 16 + a
        recorded = ts(date.fromisoformat(day), start, 20)
        justified_at = (
            ts(date.fromisoformat(day) + timedelta(days=2), "11:00")
            if status == "justified"
            else None
        )
        end = f"{int(start[:2]) + hours:02d}{start[2:]}"
        out.append(
            (
                aid,
                sid,
                class_id,
                day,
                start,
                end,
                hours,
                subj,
                kind,
                status,
                reason,
                recorded,
                justified_at,
            )
        )
        if recorded >= ctx.event_cut:
            events.append(
                (
                    recorded,
                    "absence.created",
                    sid,
                    gids,
                    json.dumps(
                        {
                            "absence_id": ids.encode("abs", aid),
                            "date": day,
                            "hours": hours,
                            "kind": kind,
                            "status": "unjustified",
                        }
                    ),
                )
            )


def _reference_rows(plan: list[SchoolPlan]) -> Rows:
    rows = Rows()
    for code, fr, ar in catalog.REGIONS:
        rows["region"].append((code, fr, ar, f"AREF {fr}", f"الأكاديمية الجهوية {ar}"))
    for i, (reg, fr, ar, kind) in enumerate(catalog.PROVINCES, 1):
        rows["province"].append((i, reg, fr, ar, kind))
    for start, code, d0, s1, end in catalog.SCHOOL_YEARS:
        rows["school_year"].append((start, code, d0, s1, end))
    for lv in catalog.LEVELS:
        rows["level"].append((lv.code, lv.cycle, lv.stream, lv.order, lv.name_fr, lv.name_ar))
        for code, coef in catalog.LEVEL_SUBJECTS[lv.code]:
            rows["level_subject"].append((lv.code, code, coef, coef + 1))
    for code, fr, ar in catalog.SUBJECTS:
        rows["subject"].append((code, fr, ar))
    for s in plan:
        prov_fr = catalog.PROVINCES[s.province_id - 1][1]
        rows["school"].append(
            (
                s.id,
                f"SBX{s.id:06d}",
                s.name_fr,
                s.name_ar,
                s.cycle,
                s.province_id,
                prov_fr,
                s.setting,
                s.pass_threshold,
            )
        )
    for g in demo.GUARDIANS:
        rows["guardian"].append(
            (
                g.id,
                g.first_name_fr,
                g.first_name_ar,
                g.last_name_fr,
                g.last_name_ar,
                f"ZZ{g.id:06d}",
                g.preferred_lang,
            )
        )
        rows["guardian_phone"].append((g.id, g.id, g.phone, "iam", 1))
    for app_id, number, status, ffr, far, lfr, lar, dob, gid, history in demo.APPLICATIONS:
        decided = history[-1][1] if status == "approved" else None
        rows["enrolment_application"].append(
            (
                app_id,
                number,
                "first_grade",
                "2026-2027",
                ffr,
                far,
                lfr,
                lar,
                dob,
                gid,
                1,
                1 if status == "approved" else None,
                status,
                None,
                None,
                None,
                history[0][1],
                decided,
            )
        )
        _history(rows, app_id, [(to, at, actor, None) for to, at, actor in history])
    return rows


class Writer:
    """Bulk inserts of plain tuples: sqlite3 executemany, or PostgreSQL COPY."""

    def __init__(self, engine: Engine) -> None:
        self.sqlite = db.is_sqlite(engine)
        self.raw = engine.raw_connection()
        if self.sqlite:
            cur = self.raw.cursor()
            for pragma in (
                "journal_mode=OFF",
                "synchronous=OFF",
                "cache_size=-400000",
                "temp_store=MEMORY",
            ):
                cur.execute(f"PRAGMA {pragma}")
            cur.close()
        self.count: dict[str, int] = defaultdict(int)

    def write(self, rows: Rows) -> None:
        cur = self.raw.cursor()
        for name, data in rows.items():
            if not data:
                continue
            table = db.metadata.tables[name]
            cols = [c.name for c in table.columns]
            if self.sqlite:
                marks = ",".join("?" * len(cols))
                cur.executemany(f"INSERT INTO {name} VALUES ({marks})", data)  # noqa: S608 - table names are ours
            else:
                quoted = ", ".join(f'"{c}"' for c in cols)
                with cur.copy(f"COPY {name} ({quoted}) FROM STDIN") as copy:
                    for r in data:
                        copy.write_row(r)
            self.count[name] += len(data)
        cur.close()
        self.raw.commit()
        rows.clear()

    def close(self) -> None:
        if self.sqlite:
            cur = self.raw.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.close()
        self.raw.close()


def school_days(now: datetime) -> list[date]:
    day, end = date(2025, 9, 8), now.date()
    out = []
    while day <= end and day <= date(2026, 6, 30):
        if day.weekday() < 5:
            out.append(day)
        day += timedelta(days=1)
    return out


def seed_database(
    engine: Engine,
    *,
    students: int,
    seed: int,
    now: datetime,
    schema: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """Drop, create and fill every table; returns row counts per table."""
    started = time.monotonic()
    say = progress or (lambda _msg: None)
    plan = make_plan(students, seed)
    db.create_schema(engine, schema)
    ctx = Context(
        seed=seed,
        now=now,
        now_iso=iso_now(now),
        event_cut=iso_now(now - EVENT_WINDOW),
        school_days=school_days(now),
        primary_school_ids=[s.id for s in plan if s.cycle == "primaire"],
        province_names=[(p[1], p[2]) for p in catalog.PROVINCES],
        birth_dates={},
    )
    writer = Writer(engine)
    try:
        rows = _reference_rows(plan)
        events: list[tuple[Any, ...]] = []
        pending = 0
        for school in plan:
            generate_school(school, ctx, rows, events)
            pending = len(rows["cc_mark"])
            if pending >= FLUSH_ROWS:
                writer.write(rows)
                done = writer.count["student"]
                say(f"{done:,} students ({time.monotonic() - started:.0f}s)")
        events.sort(key=lambda e: (e[0], e[1], e[2] or 0))
        rows["change_event"].extend(
            (seq, e[1], e[0], e[2], e[3], e[4]) for seq, e in enumerate(events, 1)
        )
        rows["sandbox_meta"].extend(
            [("seed", str(seed)), ("students", str(students)), ("now", ctx.now_iso)]
        )
        writer.write(rows)
        say(
            f"{writer.count['student']:,} students loaded "
            f"({time.monotonic() - started:.0f}s); building indexes"
        )
    finally:
        writer.close()
    db.create_indexes(engine)
    with engine.begin() as conn:
        conn.execute(sa.insert(db.sandbox_meta).values(key="complete", value=iso_now(now)))
    say(f"done in {time.monotonic() - started:.0f}s")
    counts = dict(writer.count)
    log.info(
        "seeded students=%d seconds=%.1f", counts.get("student", 0), time.monotonic() - started
    )
    return counts
