"""Shared pieces of the sandbox API's bodies: literals, references, the problem body."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

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
