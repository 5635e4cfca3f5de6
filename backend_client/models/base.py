"""Base of every reply model and the contract's closed enumerations."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


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
