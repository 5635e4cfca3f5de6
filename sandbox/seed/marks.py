"""Marks: the subjects' plan per level, one semester of continuous-assessment marks, averages."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from sandbox.catalog import LEVEL_BY_CODE, LEVEL_SUBJECTS
from sandbox.seed.base import NOISE, PUBLISHED, QUARTERS, Rows


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
    noise = NOISE
    quarters = QUARTERS
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


class ClassMarks:
    """The school's marks as they are generated, with what the class statistics and ranks need."""

    def __init__(self, rows: Rows) -> None:
        self.out_cc = rows["cc_mark"]
        self.stats: dict[tuple[int, int, int, str], list[float]] = defaultdict(list)
        self.ranks: dict[tuple[int, int, int], list[list[Any]]] = defaultdict(list)

    def add(
        self,
        sid: int,
        year: int,
        sem: int,
        class_id: int,
        marks: list[Any],
        plan: list[tuple[str, int, int, float]],
    ) -> float | None:
        """Write one semester's marks of a student; returns the semester average."""
        for m in marks:
            self.out_cc.append(
                (sid, year, sem, m[0], class_id, m[1], m[2], m[3], None, m[5], m[4], m[6], m[7])
            )
            if m[7] is not None:
                self.stats[(class_id, year, sem, m[0])].append(m[7])
        avg = semester_average(marks, plan)
        self.ranks[(class_id, year, sem)].append([sid, avg])
        return avg

    def write_results(self, rows: Rows) -> None:
        """Each class's subject statistics and each student's semester result with its rank."""
        out_stat = rows["class_subject_stat"]
        for (class_id, year, sem, code), values in self.stats.items():
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
        for (_class_id, year, sem), members in self.ranks.items():
            members.sort(key=lambda m: -1.0 if m[1] is None else m[1], reverse=True)
            for rank, (sid, avg) in enumerate(members, 1):
                out_sem.append(
                    (sid, year, sem, avg, rank if avg is not None else None, PUBLISHED[(year, sem)])
                )
