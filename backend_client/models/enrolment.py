"""Enrolment applications and their status history."""

from __future__ import annotations

from datetime import datetime

from backend_client.models.base import (
    ActorKind,
    ApplicationKind,
    ApplicationStatus,
    BackendModel,
    RejectionReason,
)
from backend_client.models.people import School


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
