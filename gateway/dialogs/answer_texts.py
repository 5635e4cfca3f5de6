"""Texts of answers that do not depend on the conversation: the catalog texts of the
backend's values (statuses, reasons, mentions), an absence's line, and the short forms that fit
a handset screen."""

from __future__ import annotations

from datetime import date

from backend_client.models import AbsenceKind, AbsenceRecord
from gateway.dialogs import texts
from gateway.dialogs.absences import excuse_refused
from gateway.i18n import Translator


def absence_line(t: Translator, absence: AbsenceRecord) -> str:
    if absence.kind is AbsenceKind.LATE:
        return t.gettext(texts.LATE_LINE, day=t.day(absence.date))
    if excuse_refused(absence):
        hours = t.number(absence.hours)
        return t.gettext(texts.ABSENCE_LINE_REFUSED, day=t.day(absence.date), hours=hours)
    return t.gettext(texts.ABSENCE_LINE, day=t.day(absence.date), hours=t.number(absence.hours))


def school_year_start(school_year: str) -> date:
    """'2025-2026' -> 1 September 2025."""
    return date(int(school_year[:4]), 9, 1)


MENTIONS = {
    "insuffisant": texts.MENTION_INSUFFISANT,
    "passable": texts.MENTION_PASSABLE,
    "assez_bien": texts.MENTION_ASSEZ_BIEN,
    "bien": texts.MENTION_BIEN,
    "tres_bien": texts.MENTION_TRES_BIEN,
}


STATUS_TEXTS = {
    "submitted": texts.STATUS_SUBMITTED,
    "under_review": texts.STATUS_UNDER_REVIEW,
    "approved": texts.STATUS_APPROVED,
    "rejected": texts.STATUS_REJECTED,
    "waitlisted": texts.STATUS_WAITLISTED,
    "enrolled": texts.STATUS_ENROLLED,
    "cancelled": texts.STATUS_CANCELLED,
    "pending": texts.STATUS_PENDING,
    "confirmed": texts.STATUS_CONFIRMED,
    "not_returned": texts.STATUS_NOT_RETURNED,
    "requested": texts.STATUS_REQUESTED,
    "released_by_origin": texts.STATUS_RELEASED,
    "accepted_by_destination": texts.STATUS_ACCEPTED,
    "completed": texts.STATUS_COMPLETED,
}
REASON_TEXTS = {
    "age_not_met": texts.REASON_AGE,
    "outside_catchment": texts.REASON_CATCHMENT,
    "incomplete_civil_status": texts.REASON_CIVIL_STATUS,
    "duplicate_application": texts.REASON_DUPLICATE,
    "capacity_full": texts.REASON_CAPACITY,
}
