"""One school's current classes: each student with family, marks, absences and applications."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

from sandbox import ids
from sandbox.catalog import LEVEL_BY_CODE, PREVIOUS_LEVEL
from sandbox.seed.absences import demo_absences, random_absences
from sandbox.seed.base import NOISE, YEAR_PUBLISHED, Context, Rows
from sandbox.seed.enrolment import transfer_application
from sandbox.seed.marks import SUBJECT_PLAN, ClassMarks, cc_marks
from sandbox.seed.people import Family, demo_student, family_of, random_student
from sandbox.seed.plan import ClassPlan, SchoolPlan


def generate_school(
    school: SchoolPlan, ctx: Context, rows: Rows, events: list[tuple[Any, ...]]
) -> None:
    """All rows of one school's current classes and their students."""
    rng = random.Random(f"{ctx.seed}:school:{school.id}")
    getbits = rng.getrandbits
    rand = rng.random
    families: list[Family] = []
    home = ctx.province_names[school.province_id - 1]
    marks = ClassMarks(rows)
    out_student = rows["student"]
    out_enrol = rows["enrollment"]
    out_link = rows["guardian_student"]
    out_abs = rows["absence"]
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
                row, links, ability4 = demo_student(dm, cp.id, home)
            else:
                family = family_of(rng, ctx, sid, families, rows, events)
                links = family[2]
                born = entry_year - 6 - (1 if repeater else 0)
                row, ability4 = random_student(rng, ctx, sid, cp.id, family, born, home, repeater)
            out_student.append(row)
            guardian_ids = json.dumps([ids.encode("gdn", g) for g, _ in links])
            for gid, rel in links:
                out_link.append((gid, sid, rel, 1, 1))
            # marks: last year (two semesters and the decision), this year's first semester
            offsets = [NOISE[getbits(12)] * 0.5 for _ in range(max(n_subj, len(plan_prev)))]
            out_enrol.append((sid, 2025, cp.id, "confirmed"))
            if prev_level is not None:
                _last_year(getbits, cp, sid, ability4, offsets, plan_prev, repeater, marks, rows)
                n_rep += repeater
            marks.add(sid, 2025, 1, cp.id, cc_marks(getbits, ability4, offsets, plan_now), plan_now)
            # absences this school year, up to the clock
            if dm is not None:
                demo_absences(sid, cp.id, ctx, out_abs, events, guardian_ids)
            else:
                random_absences(getbits, ctx, sid, cp.id, plan_now, out_abs, events, guardian_ids)
            if dm is None and getbits(8) == 0:
                transfer_application(
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
    marks.write_results(rows)


def _last_year(
    getbits: Callable[[int], int],
    cp: ClassPlan,
    sid: int,
    ability4: float,
    offsets: list[float],
    plan_prev: list[tuple[str, int, int, float]],
    repeater: bool,
    marks: ClassMarks,
    rows: Rows,
) -> None:
    """Last year's enrolment, two semesters of marks and the year's decision."""
    level = LEVEL_BY_CODE[cp.level]
    prev_class = cp.rep_id if repeater else cp.prev_id
    rows["enrollment"].append((sid, 2024, prev_class, "confirmed"))
    plan_last = SUBJECT_PLAN[cp.level] if repeater else plan_prev
    sem_avgs = []
    for sem in (1, 2):
        semester = cc_marks(getbits, ability4 - 2 if repeater else ability4, offsets, plan_last)
        sem_avgs.append(marks.add(sid, 2024, sem, prev_class, semester, plan_last))
    first, second = sem_avgs
    year_avg = round((first + second) / 2, 2) if first is not None and second is not None else None
    if repeater:
        decision, stream = "repeat", None
    elif level.order in (9, 10) and level.cycle == "lycee":
        decision, stream = "oriented", cp.level
    else:
        decision, stream = "promoted", None
    rows["year_result"].append((sid, 2024, year_avg, decision, stream, YEAR_PUBLISHED[2024]))
