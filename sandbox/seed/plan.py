"""The plan: schools, their classes and headcounts, and last year's shadow classes, from one RNG."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field

from sandbox import catalog, demo
from sandbox.catalog import LEVEL_BY_CODE, PREVIOUS_LEVEL


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
