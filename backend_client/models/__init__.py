"""Values parsed from the backend's JSON replies (DOMAIN.md §8).

Field names are those of the contract. Models are frozen and ignore unknown fields, because
v1 of the API only ever adds fields. Fields the contract shows as nullable or absent default
to None. Enumerations are closed: a value outside the contract is a `BadResponse`.
"""

from __future__ import annotations

from backend_client.models.absences import (
    AbsenceRecord,
    AbsencesPage,
    AbsenceTotals,
    RunningTotals,
    SubjectRef,
)
from backend_client.models.base import (
    AbsenceKind,
    AbsenceStatus,
    ActorKind,
    ApplicationKind,
    ApplicationStatus,
    AssessmentKind,
    BackendModel,
    ChangeType,
    Decision,
    Lang,
    Mention,
    ReasonCode,
    RejectionReason,
    Relation,
)
from backend_client.models.enrolment import (
    ApplicationSummary,
    EnrolmentApplication,
    StatusChange,
)
from backend_client.models.feed import (
    ChangeEvent,
    ChangesHead,
    ChangesPage,
    Health,
    Meta,
)
from backend_client.models.grades import (
    Assessment,
    Grades,
    Orientation,
    SemesterSummary,
    SubjectGrades,
    YearResult,
)
from backend_client.models.people import (
    Guardian,
    GuardianContact,
    GuardianLookup,
    Level,
    School,
    StudentProfile,
    StudentSummary,
    VerifyResult,
)

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
    "RunningTotals",
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
