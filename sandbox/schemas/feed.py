"""Bodies of the change feed, health and meta endpoints."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel


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
