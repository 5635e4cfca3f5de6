"""Request and response bodies of the sandbox API, one model per body (field names as DOMAIN §8)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Semester = Literal[1, 2]
AbsenceStatus = Literal["unjustified", "justified", "rejected"]
AbsenceKind = Literal["absence", "late"]
ApplicationStatus = Literal[
    "submitted",
    "under_review",
    "approved",
    "rejected",
    "waitlisted",
    "enrolled",
    "cancelled",
    "requested",
    "released_by_origin",
    "accepted_by_destination",
    "completed",
    "pending",
    "confirmed",
    "not_returned",
]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- shared pieces -----------------------------------------------------------------------------
class LevelRef(BaseModel):
    code: str
    name_fr: str
    name_ar: str


class SchoolRef(BaseModel):
    name_fr: str
    name_ar: str


class SubjectRef(BaseModel):
    code: str
    name_fr: str
    name_ar: str


class Problem(BaseModel):
    """RFC 9457 problem details, with `code` and `request_id` extensions."""

    type: str
    title: str
    status: int
    detail: str
    instance: str
    code: str
    request_id: str


# --- guardians ---------------------------------------------------------------------------------
class GuardianLookupRequest(_In):
    phone: str = Field(min_length=1, max_length=32, examples=["+212600000001"])


class GuardianOut(BaseModel):
    id: str
    first_name_fr: str
    first_name_ar: str
    preferred_lang: Literal["ar", "fr"]


class StudentSummary(BaseModel):
    id: str
    first_name_fr: str
    first_name_ar: str
    relation: Literal["father", "mother", "tutor"]
    level: LevelRef
    class_label: str
    school: SchoolRef
    massar_code_masked: str


class GuardianLookupResponse(BaseModel):
    guardian: GuardianOut
    students: list[StudentSummary]


class GuardianStudentsResponse(BaseModel):
    items: list[StudentSummary]
    next_cursor: str | None = None


class GuardiansBatchRequest(_In):
    ids: list[str] = Field(min_length=1, max_length=500, examples=[["gdn_01HZX3K9"]])


class GuardianContact(GuardianOut):
    """A guardian with the phones the school registered for them (E.164), for alerts."""

    phones: list[str]


class GuardiansBatchResponse(BaseModel):
    items: list[GuardianContact]


# --- verification ------------------------------------------------------------------------------
class VerifyRequest(_In):
    massar_code: str = Field(
        pattern=r"^[A-Z]?[0-9]{9}$",
        description="The code, or its 9 digits alone (a phone keypad has no letters): "
        "then it is looked for among the students linked to `phone` only.",
        examples=["Z990000001", "990000001"],
    )
    birth_date: str = Field(
        pattern=r"^([0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{8})$",
        description="YYYY-MM-DD or DDMMYYYY (DTMF/USSD form)",
        examples=["2018-09-14", "14092018"],
    )
    phone: str = Field(min_length=1, max_length=32, examples=["+212600000001"])


class VerifyResponse(BaseModel):
    match: bool
    student_id: str | None = None


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
    unjustified_hours: float
    justified_hours: float
    late_count: int


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


# --- enrolment ---------------------------------------------------------------------------------
class ApplicationSummary(BaseModel):
    id: str
    number: str
    kind: Literal["first_grade", "reregistration", "transfer"]
    school_year: str
    status: ApplicationStatus
    child_first_name_fr: str
    child_first_name_ar: str
    rejection_reason: str | None
    waitlist_position: int | None
    requested_school: SchoolRef | None
    assigned_school: SchoolRef | None
    submitted_at: str
    decided_at: str | None


class ApplicationsResponse(BaseModel):
    items: list[ApplicationSummary]
    next_cursor: str | None = None


class ApplicationLookupRequest(_In):
    number: str = Field(min_length=1, max_length=32, examples=["PRE-2026-0000001"])
    child_birth_date: date = Field(examples=["2020-06-01"])


class HistoryStep(BaseModel):
    to: ApplicationStatus
    at: str
    actor: Literal["parent", "director", "system"]
    reason: str | None = None


class ApplicationLookupResponse(BaseModel):
    number: str
    kind: Literal["first_grade", "reregistration", "transfer"]
    school_year: str
    status: ApplicationStatus
    rejection_reason: str | None
    waitlist_position: int | None
    requested_school: SchoolRef | None
    assigned_school: SchoolRef | None
    history: list[HistoryStep]


# --- change feed, health, meta -----------------------------------------------------------------
class ChangeEvent(BaseModel):
    id: str
    type: str
    occurred_at: str
    student_id: str | None
    student_first_name_fr: str | None
    student_first_name_ar: str | None
    guardian_ids: list[str]
    data: dict[str, Any]


class ChangesResponse(BaseModel):
    items: list[ChangeEvent]
    next_cursor: str
    has_more: bool


class ChangesHead(BaseModel):
    cursor: str


class Health(BaseModel):
    status: Literal["ok"]


class Meta(BaseModel):
    api_version: str
    school_year: str
    semester: int
    now: str
    sandbox: bool = True


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
