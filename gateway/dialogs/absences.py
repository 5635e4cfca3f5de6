"""The one rule for the absence figures a parent sees (DOMAIN.md §4 "What counts"), used by
every channel's answer, the alerts and the console.

- an absence (`kind: absence`) whose status is `unjustified` or `rejected` is unjustified: a
  rejected excuse leaves it so (its line says "excuse refused");
- a `justified` absence is counted apart;
- a lateness (`kind: late`) is never an absence hour: it is counted apart, whatever its status.

The hours and the lateness count are the backend's `totals` (they cover the whole range; the
gateway reads one page of items); the sandbox computes them by this same rule
(`sandbox/api/public.py`), and `tests/gateway/test_absence_rule.py` checks both over every
kind × status.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from backend_client.models import (
    AbsenceKind,
    AbsenceRecord,
    AbsencesPage,
    AbsenceStatus,
    AbsenceTotals,
)

__all__ = [
    "AbsenceFigures",
    "absence_figures",
    "counts_as_justified",
    "counts_as_unjustified",
    "excuse_refused",
    "totals_of",
]

UNJUSTIFIED_STATUSES = frozenset({AbsenceStatus.UNJUSTIFIED, AbsenceStatus.REJECTED})


def counts_as_unjustified(kind: AbsenceKind | str, status: AbsenceStatus | str) -> bool:
    """Whether a record counts as an unjustified absence (and its hours as unjustified)."""
    return kind == AbsenceKind.ABSENCE and status in UNJUSTIFIED_STATUSES


def counts_as_justified(kind: AbsenceKind | str, status: AbsenceStatus | str) -> bool:
    return kind == AbsenceKind.ABSENCE and status == AbsenceStatus.JUSTIFIED


def excuse_refused(record: AbsenceRecord) -> bool:
    """An unjustified absence whose excuse the school refused: said beside it."""
    return record.kind is AbsenceKind.ABSENCE and record.status is AbsenceStatus.REJECTED


def totals_of(records: Iterable[AbsenceRecord]) -> AbsenceTotals:
    """The totals of `records` by the rule (what the backend's `totals` must equal)."""
    unjustified = justified = 0.0
    late = 0
    for r in records:
        if r.kind is AbsenceKind.LATE:
            late += 1
        elif counts_as_unjustified(r.kind, r.status):
            unjustified += r.hours
        elif counts_as_justified(r.kind, r.status):
            justified += r.hours
    return AbsenceTotals(unjustified_hours=unjustified, justified_hours=justified, late_count=late)


@dataclass(frozen=True, slots=True)
class AbsenceFigures:
    """What a parent (or an agent on the console) is shown about a child's absences."""

    unjustified: tuple[AbsenceRecord, ...]  # newest first: the lines to list
    unjustified_hours: float
    justified_hours: float
    late_count: int

    @property
    def unjustified_count(self) -> int:
        return len(self.unjustified)


def absence_figures(page: AbsencesPage) -> AbsenceFigures:
    """The figures of one backend answer: hours and lateness from its `totals`, the
    unjustified absences (rejected excuses included) listed from its items."""
    listed = sorted(
        (a for a in page.items if counts_as_unjustified(a.kind, a.status)),
        key=lambda a: (a.date, a.start_time),
        reverse=True,
    )
    return AbsenceFigures(
        unjustified=tuple(listed),
        unjustified_hours=page.totals.unjustified_hours,
        justified_hours=page.totals.justified_hours,
        late_count=page.totals.late_count,
    )
