"""Bodies of a student's endpoints: profile, grades, absences, results."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from sandbox.schemas.common import AbsenceKind, AbsenceStatus, LevelRef, SchoolRef, SubjectRef


# --- students ----------------------------------------------------------------------------------
class StudentProfile(BaseModel):
    id: str
    first_name_fr: str
    first_name_ar: str
    gender: Literal["M", "F"]
    school_year: str
    level: LevelRef
    class_label: str
    school: SchoolRef
    massar_code_masked: str
    status: str


class Assessment(BaseModel):
    kind: Literal["devoir", "activites"]
    seq: int
    score: float | None
    absent: bool = False
    max_score: int
    held_on: date | None


class SubjectGrades(BaseModel):
    code: str
    name_fr: str
    name_ar: str
    coefficient: int
    assessments: list[Assessment]
    average: float | None
    class_avg: float | None
    class_min: float | None
    class_max: float | None


class GradesResponse(BaseModel):
    student_id: str
    school_year: str
    semester: int
    published_at: str
    subjects: list[SubjectGrades]
    semester_average: float | None
    mention: str | None
    rank: int | None = None
    class_size: int | None = None


class AbsenceOut(BaseModel):
    id: str
    date: date
    start_time: str
    end_time: str
    hours: float
    subject: SubjectRef | None
    kind: AbsenceKind
    status: AbsenceStatus
    reason_code: str | None
    recorded_at: str


class AbsenceTotals(BaseModel):
    """DOMAIN.md §4 "What counts": unjustified = absences `unjustified` or `rejected`; a
    lateness is never an absence hour."""

    unjustified_hours: float
    justified_hours: float
    late_count: int
    unjustified_count: int = Field(
        description="How many unjustified absences (rejected excuses included). An "
        "additive field: clients that predate it count the listed items."
    )


class AbsencesResponse(BaseModel):
    items: list[AbsenceOut]
    totals: AbsenceTotals
    next_cursor: str | None


class Orientation(BaseModel):
    stream: str


class SemesterSummary(BaseModel):
    semester: int
    average: float | None
    mention: str | None
    rank: int | None
    published_at: str


class ResultsResponse(BaseModel):
    student_id: str
    school_year: str
    average: float | None
    mention: str | None
    decision: Literal["promoted", "repeat", "excluded", "oriented", "pending"]
    orientation: Orientation | None
    published_at: str
    semesters: list[SemesterSummary]
