"""Bodies of the change feed, health and meta endpoints."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


# --- change feed, health, meta -----------------------------------------------------------------
class RunningTotals(BaseModel):
    """A child's absence totals since the 1st of September, just after the change, by DOMAIN.md
    §4 "What counts": the figures `GET /students/{sid}/absences` gives for its default range."""

    since: str = Field(examples=["2025-09-01"])
    unjustified_count: int
    unjustified_hours: float
    justified_hours: float
    late_count: int


class ChangeEvent(BaseModel):
    id: str
    type: str
    occurred_at: str
    student_id: str | None
    student_first_name_fr: str | None
    student_first_name_ar: str | None
    guardian_ids: list[str]
    data: dict[str, Any]
    totals: RunningTotals | None = Field(
        default=None,
        description="On `absence.created` and `absence.updated`: the child's running totals "
        "after this change (written with the event, in the same transaction), so a "
        "notification can say them without reading the absences. Additive: null on other "
        "types, and on absence events older than the field.",
    )


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
