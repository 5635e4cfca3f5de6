"""Bodies of the enrolment applications' endpoints."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from sandbox.schemas.common import ApplicationStatus, SchoolRef, _In


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
