"""The change feed and the service's health and metadata."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field, JsonValue

from backend_client.models.absences import RunningTotals
from backend_client.models.base import BackendModel, ChangeType


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
    # On absence events: the child's running totals after the change. Added to the contract
    # later: None from an older backend (the alert then says no total).
    totals: RunningTotals | None = None


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
