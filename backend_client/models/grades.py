"""Grades and results: marks per subject, semester summaries, the year's decision."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from backend_client.models.base import AssessmentKind, BackendModel, Decision, Mention


class Assessment(BackendModel):
    """One mark: a supervised test (devoir), integrated activities or an exam."""

    kind: AssessmentKind
    seq: int
    score: float | None
    max_score: float
    held_on: date | None = None
    absent: bool = False


class SubjectGrades(BackendModel):
    """Marks, average and class statistics of one subject in one semester."""

    code: str
    name_fr: str
    name_ar: str
    coefficient: float
    assessments: tuple[Assessment, ...]
    average: float | None = None
    class_avg: float | None = None
    class_min: float | None = None
    class_max: float | None = None


class Grades(BackendModel):
    """`GET /students/{sid}/grades`: continuous-assessment marks of one semester."""

    student_id: str
    school_year: str
    semester: Literal[1, 2]
    published_at: datetime
    subjects: tuple[SubjectGrades, ...]
    semester_average: float | None = None
    mention: Mention | None = None
    rank: int | None = None
    class_size: int | None = None


class Orientation(BackendModel):
    """The stream a pupil is oriented to, when the decision is `oriented`."""

    stream: str


class SemesterSummary(BackendModel):
    """One semester's average within a year result."""

    semester: Literal[1, 2]
    average: float | None = None
    mention: Mention | None = None
    rank: int | None = None
    published_at: datetime | None = None


class YearResult(BackendModel):
    """`GET /students/{sid}/results`: the year's average and the class council's decision."""

    student_id: str
    school_year: str
    average: float | None = None
    mention: Mention | None = None
    decision: Decision
    orientation: Orientation | None = None
    published_at: datetime | None = None
    semesters: tuple[SemesterSummary, ...] = ()
