"""Bodies of the admin endpoints: chaos, clock, absences, publication, generation, stats."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from sandbox.schemas.common import AbsenceKind, AbsenceStatus, ApplicationStatus, Semester, _In


# --- admin -------------------------------------------------------------------------------------
class ChaosState(BaseModel):
    profile: str
    latency_median_ms: float
    latency_p99_ms: float
    latency_jitter_ms: float
    error_rate: float
    error_mix: str
    hang_rate: float
    hang_seconds: float
    down: bool
    flap: float
    rate_limit_rps: float
    auto_peaks: bool
    effective_profile: str


class ChaosUpdate(_In):
    profile: Literal["off", "normal", "rentree", "grade_deadline", "outage"] | None = None
    latency_median_ms: float | None = Field(default=None, ge=0, le=120_000)
    latency_p99_ms: float | None = Field(default=None, ge=0, le=120_000)
    latency_jitter_ms: float | None = Field(default=None, ge=0, le=60_000)
    error_rate: float | None = Field(default=None, ge=0, le=1)
    error_mix: str | None = Field(
        default=None, pattern=r"^\s*[0-9]{3}:[0-9.]+(\s*,\s*[0-9]{3}:[0-9.]+)*\s*$"
    )
    hang_rate: float | None = Field(default=None, ge=0, le=1)
    hang_seconds: float | None = Field(default=None, ge=0, le=600)
    down: bool | None = None
    flap: float | None = Field(default=None, ge=0, le=86_400)
    rate_limit_rps: float | None = Field(default=None, ge=0)
    auto_peaks: bool | None = None


class ClockRequest(_In):
    now: datetime | None = None
    advance_seconds: float | None = None


class ClockResponse(BaseModel):
    now: str
    school_year: str
    semester: int


class AbsenceCreate(_In):
    student_id: str | None = None
    massar_code: str | None = Field(default=None, pattern=r"^[A-Z][0-9]{9}$")
    date: date
    start_time: str = Field(default="08:30", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
    hours: float = Field(default=1, gt=0, le=8)
    status: AbsenceStatus = "unjustified"
    kind: AbsenceKind = "absence"
    subject: str | None = None
    reason_code: Literal["medical", "family", "administrative", "other"] | None = None


class AbsenceUpdate(_In):
    status: AbsenceStatus
    reason_code: Literal["medical", "family", "administrative", "other"] | None = None


class PublishRequest(_In):
    school_year: str = Field(pattern=r"^[0-9]{4}-[0-9]{4}$")
    semester: Semester
    student_id: str | None = None
    massar_code: str | None = Field(default=None, pattern=r"^[A-Z][0-9]{9}$")
    scope: Literal["student", "class"] = "student"


class PublishResponse(BaseModel):
    school_year: str
    semester: int
    published: int
    already_published: int
    published_at: str


class StatusChangeRequest(_In):
    status: ApplicationStatus
    reason: str | None = None
    actor: Literal["parent", "director", "system"] = "director"


class GenerateRequest(_In):
    absences: int = Field(default=10, ge=0, le=1000)


class GenerateResponse(BaseModel):
    absences: int
    events: int


class Stats(BaseModel):
    total: int
    since: str
    routes: dict[str, dict[str, int]]


class LinkUpdate(_In):
    """A guardian's link to a child: may the school's notices about this child reach them?"""

    guardian_id: str = Field(examples=["gdn_01HZX3K9"])
    student_id: str | None = None
    massar_code: str | None = Field(default=None, pattern=r"^[A-Z][0-9]{9}$")
    may_notify: bool


class LinkOut(BaseModel):
    guardian_id: str
    student_id: str
    may_notify: bool


class YearResultPublish(_In):
    """Publish a child's year result: the average of the two semesters, and the council's
    decision (by default promoted at 10 or more, else repeat; pending without both)."""

    school_year: str = Field(pattern=r"^[0-9]{4}-[0-9]{4}$")
    student_id: str | None = None
    massar_code: str | None = Field(default=None, pattern=r"^[A-Z][0-9]{9}$")
    decision: Literal["promoted", "repeat", "excluded", "oriented"] | None = None
    orientation_stream: str | None = Field(default=None, max_length=10)


class YearResultOut(BaseModel):
    student_id: str
    school_year: str
    average: float | None
    decision: str
    published_at: str
    already_published: bool
