"""Values parsed from the backend's JSON replies (DOMAIN.md §8).

Field names are those of the contract. Models are frozen and ignore unknown fields, because
v1 of the API only ever adds fields. Fields the contract shows as nullable or absent default
to None. Enumerations are closed: a value outside the contract is a `BadResponse`.
"""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

__all__ = [
    "AbsenceKind",
    "AbsenceRecord",
    "AbsenceStatus",
    "AbsenceTotals",
    "AbsencesPage",
    "ActorKind",
    "ApplicationKind",
    "ApplicationStatus",
    "ApplicationSummary",
    "Assessment",
    "AssessmentKind",
    "BackendModel",
    "ChangeEvent",
    "ChangeType",
    "ChangesHead",
    "ChangesPage",
    "Decision",
    "EnrolmentApplication",
    "Grades",
    "Guardian",
    "GuardianContact",
    "GuardianLookup",
    "Health",
    "Lang",
    "Level",
    "Mention",
    "Meta",
    "Orientation",
    "ReasonCode",
    "RejectionReason",
    "Relation",
    "School",
    "SemesterSummary",
    "StatusChange",
    "StudentProfile",
    "StudentSummary",
    "SubjectGrades",
    "SubjectRef",
    "VerifyResult",
    "YearResult",
]


class BackendModel(BaseModel):
    """Base of every reply model: frozen, unknown fields ignored."""

    model_config = ConfigDict(frozen=True, extra="ignore")


# --- enumerations ------------------------------------------------------------------------


class Lang(StrEnum):
    """The guardian's preferred language."""

    AR = "ar"
    FR = "fr"


class Relation(StrEnum):
    """The guardian's relation to the student."""

    FATHER = "father"
    MOTHER = "mother"
    TUTOR = "tutor"


class AssessmentKind(StrEnum):
    """What a mark is for (DOMAIN.md §2)."""

    DEVOIR = "devoir"
    ACTIVITES = "activites"
    LOCAL_EXAM = "local_exam"
    REGIONAL_EXAM = "regional_exam"
    NATIONAL_EXAM = "national_exam"
    PROVINCIAL_EXAM = "provincial_exam"


class Mention(StrEnum):
    """The mention of a semester average (DOMAIN.md §2)."""

    INSUFFISANT = "insuffisant"
    PASSABLE = "passable"
    ASSEZ_BIEN = "assez_bien"
    BIEN = "bien"
    TRES_BIEN = "tres_bien"


class AbsenceKind(StrEnum):
    """An absence, or a late arrival (retard)."""

    ABSENCE = "absence"
    LATE = "late"


class AbsenceStatus(StrEnum):
    """Whether the school accepted an excuse; the gateway never takes excuses."""

    UNJUSTIFIED = "unjustified"
    JUSTIFIED = "justified"
    REJECTED = "rejected"


class ReasonCode(StrEnum):
    """The coarse reason of a justified absence; never free text."""

    MEDICAL = "medical"
    FAMILY = "family"
    ADMINISTRATIVE = "administrative"
    OTHER = "other"


class Decision(StrEnum):
    """The class council's decision for the year."""

    PROMOTED = "promoted"
    REPEAT = "repeat"
    EXCLUDED = "excluded"
    ORIENTED = "oriented"
    PENDING = "pending"


class ApplicationKind(StrEnum):
    """First-grade pre-registration, re-registration or transfer."""

    FIRST_GRADE = "first_grade"
    REREGISTRATION = "reregistration"
    TRANSFER = "transfer"


class ApplicationStatus(StrEnum):
    """Statuses of the three application kinds (DOMAIN.md §5), in one set."""

    # first-grade pre-registration
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    APPROVED = "approved"
    REJECTED = "rejected"
    WAITLISTED = "waitlisted"
    ENROLLED = "enrolled"
    CANCELLED = "cancelled"
    # re-registration
    PENDING = "pending"
    CONFIRMED = "confirmed"
    NOT_RETURNED = "not_returned"
    # transfer
    REQUESTED = "requested"
    RELEASED_BY_ORIGIN = "released_by_origin"
    ACCEPTED_BY_DESTINATION = "accepted_by_destination"
    COMPLETED = "completed"


class RejectionReason(StrEnum):
    """Why a first-grade application was rejected."""

    AGE_NOT_MET = "age_not_met"
    OUTSIDE_CATCHMENT = "outside_catchment"
    INCOMPLETE_CIVIL_STATUS = "incomplete_civil_status"
    DUPLICATE_APPLICATION = "duplicate_application"
    CAPACITY_FULL = "capacity_full"


class ActorKind(StrEnum):
    """Who moved an application to a status."""

    PARENT = "parent"
    DIRECTOR = "director"
    SYSTEM = "system"


class ChangeType(StrEnum):
    """Types of change-feed events."""

    ABSENCE_CREATED = "absence.created"
    ABSENCE_UPDATED = "absence.updated"
    GRADE_PUBLISHED = "grade.published"
    SEMESTER_RESULT_PUBLISHED = "semester_result.published"
    YEAR_RESULT_PUBLISHED = "year_result.published"
    ENROLMENT_STATUS_CHANGED = "enrolment.status_changed"


# --- guardians and students --------------------------------------------------------------


class Level(BackendModel):
    """A school level such as ``1AC`` (DOMAIN.md §1)."""

    code: str
    name_fr: str
    name_ar: str


class School(BackendModel):
    """A school's name in both languages."""

    name_fr: str
    name_ar: str


class Guardian(BackendModel):
    """A parent or tutor, with first names only."""

    id: str
    first_name_fr: str
    first_name_ar: str
    preferred_lang: Lang


class GuardianContact(Guardian):
    """A guardian with the phones the school registered (E.164), for alerts
    (`POST /guardians/batch`)."""

    phones: tuple[str, ...] = ()


class StudentSummary(BackendModel):
    """A child as listed for a guardian, with the current class."""

    id: str
    first_name_fr: str
    first_name_ar: str
    relation: Relation
    level: Level
    class_label: str
    school: School
    massar_code_masked: str


class GuardianLookup(BackendModel):
    """`POST /guardians/lookup`."""

    guardian: Guardian
    students: tuple[StudentSummary, ...]


class VerifyResult(BackendModel):
    """`POST /students/verify`: `student_id` is set only on a match."""

    match: bool
    student_id: str | None = None


class StudentProfile(BackendModel):
    """`GET /students/{sid}`: the minimal profile (the contract gives no example)."""

    id: str
    first_name_fr: str
    first_name_ar: str
    massar_code_masked: str
    level: Level | None = None
    class_label: str | None = None
    school: School | None = None


# --- grades and results ------------------------------------------------------------------


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


# --- absences ----------------------------------------------------------------------------


class SubjectRef(BackendModel):
    """A subject, as named on an absence."""

    code: str
    name_fr: str
    name_ar: str


class AbsenceRecord(BackendModel):
    """One absence or lateness, per teaching session."""

    id: str
    date: date
    start_time: time
    end_time: time
    hours: float
    subject: SubjectRef | None = None
    kind: AbsenceKind
    status: AbsenceStatus
    reason_code: ReasonCode | None = None
    recorded_at: datetime


class AbsenceTotals(BackendModel):
    """Totals over the whole requested range, not only this page."""

    unjustified_hours: float
    justified_hours: float
    late_count: int


class AbsencesPage(BackendModel):
    """`GET /students/{sid}/absences`: one page, with totals over the whole range."""

    items: tuple[AbsenceRecord, ...]
    totals: AbsenceTotals
    next_cursor: str | None = None


# --- enrolment ---------------------------------------------------------------------------


class StatusChange(BackendModel):
    """One step of an application's history."""

    to: ApplicationStatus
    at: datetime
    actor: ActorKind
    reason: str | None = None


class EnrolmentApplication(BackendModel):
    """`POST /enrolment-applications/lookup`: one application with its history."""

    number: str
    kind: ApplicationKind
    school_year: str
    status: ApplicationStatus
    rejection_reason: RejectionReason | None = None
    waitlist_position: int | None = None
    requested_school: School | None = None
    assigned_school: School | None = None
    history: tuple[StatusChange, ...]


class ApplicationSummary(BackendModel):
    """An application as listed for a guardian or a student (no history)."""

    id: str
    number: str
    kind: ApplicationKind
    school_year: str
    status: ApplicationStatus
    child_first_name_fr: str
    child_first_name_ar: str
    rejection_reason: RejectionReason | None = None
    waitlist_position: int | None = None
    requested_school: School | None = None
    assigned_school: School | None = None
    submitted_at: datetime
    decided_at: datetime | None = None


# --- change feed and service -------------------------------------------------------------


class ChangeEvent(BackendModel):
    """One event of the change feed; delivered at least once, so dedupe on `id`.

    `type` is a `ChangeType`, or the plain string of a type added to the feed after this
    client was written (v1 grows by addition), which a consumer should skip.
    """

    id: str
    type: ChangeType | str = Field(union_mode="left_to_right")
    occurred_at: datetime
    student_id: str | None = None
    student_first_name_fr: str | None = None
    student_first_name_ar: str | None = None
    guardian_ids: tuple[str, ...] = ()
    data: dict[str, JsonValue] = Field(default_factory=dict)


class ChangesPage(BackendModel):
    """`GET /changes`: events after the cursor; carry on from `next_cursor`."""

    items: tuple[ChangeEvent, ...]
    next_cursor: str
    has_more: bool


class ChangesHead(BackendModel):
    """`GET /changes/head`: where to start reading the feed (the contract gives no example)."""

    cursor: str


class Health(BackendModel):
    """`GET /health`."""

    status: str


class Meta(BackendModel):
    """`GET /meta`: the current school year and semester and the sandbox clock."""

    school_year: str
    semester: Literal[1, 2]
    now: datetime | None = None
    api_version: str | None = None
