"""Absences: records, totals, pages."""

from __future__ import annotations

from datetime import date, datetime, time

from backend_client.models.base import AbsenceKind, AbsenceStatus, BackendModel, ReasonCode


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
    """Totals over the whole requested range, not only this page (DOMAIN.md §4 "What counts").

    `unjustified_count` was added to the contract later: None from a backend that predates
    it (the gateway then counts the listed items)."""

    unjustified_hours: float
    justified_hours: float
    late_count: int
    unjustified_count: int | None = None


class RunningTotals(AbsenceTotals):
    """A child's totals since `since` (the 1st of September) just after a change: what an
    absence event of the change feed carries (`ChangeEvent.totals`)."""

    since: date


class AbsencesPage(BackendModel):
    """`GET /students/{sid}/absences`: one page, with totals over the whole range."""

    items: tuple[AbsenceRecord, ...]
    totals: AbsenceTotals
    next_cursor: str | None = None
