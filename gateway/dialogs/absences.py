"""The one rule for the absence figures a parent sees (DOMAIN.md §4 "What counts"), used by
every channel's answer, the alerts and the console.

- an absence (`kind: absence`) whose status is `unjustified` or `rejected` is unjustified: a
  rejected excuse leaves it so (its line says "excuse refused");
- a `justified` absence is counted apart;
- a lateness (`kind: late`) is never an absence hour: it is counted apart, whatever its status.

The count, the hours and the lateness count are the backend's `totals` (they cover the whole
range; the gateway reads one page of items); the sandbox computes them by this same rule
(`sandbox/absence_rule.py`), for the absences endpoint and for the running totals its absence
events carry, and `running_total` makes them the one figure the answer to ABS and every absence
alert say. `tests/gateway/test_absence_rule.py` and `tests/gateway/test_running_total.py` check
them over every kind × status.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import overload

from backend_client.models import (
    AbsenceKind,
    AbsenceRecord,
    AbsencesPage,
    AbsenceStatus,
    AbsenceTotals,
)

__all__ = [
    "AbsenceFigures",
    "RunningTotal",
    "absence_figures",
    "counts_as_justified",
    "counts_as_unjustified",
    "excuse_refused",
    "running_total",
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
    late = count = 0
    for r in records:
        if r.kind is AbsenceKind.LATE:
            late += 1
        elif counts_as_unjustified(r.kind, r.status):
            unjustified += r.hours
            count += 1
        elif counts_as_justified(r.kind, r.status):
            justified += r.hours
    return AbsenceTotals(
        unjustified_hours=unjustified,
        justified_hours=justified,
        late_count=late,
        unjustified_count=count,
    )


@dataclass(frozen=True, slots=True)
class RunningTotal:
    """The figure a parent is told about a child's year: how many unjustified absences, and
    their hours, since September (the answer to ABS, and every absence alert)."""

    count: int
    hours: float


@overload
def running_total(totals: AbsenceTotals, listed: int) -> RunningTotal: ...
@overload
def running_total(totals: AbsenceTotals, listed: None = None) -> RunningTotal | None: ...
def running_total(totals: AbsenceTotals, listed: int | None = None) -> RunningTotal | None:
    """The running total of the backend's `totals`: its count of unjustified absences, or
    (a backend that predates that field) `listed`, the unjustified items the caller read;
    None when neither is known (an alert from such a backend says no total)."""
    count = totals.unjustified_count if totals.unjustified_count is not None else listed
    if count is None:
        return None
    return RunningTotal(count=count, hours=totals.unjustified_hours)


@dataclass(frozen=True, slots=True)
class AbsenceFigures:
    """What a parent (or an agent on the console) is shown about a child's absences."""

    unjustified: tuple[AbsenceRecord, ...]  # newest first: the lines to list (one page)
    unjustified_count: int  # over the whole range (`running_total`), not only the page
    unjustified_hours: float
    justified_hours: float
    late_count: int


def absence_figures(page: AbsencesPage) -> AbsenceFigures:
    """The figures of one backend answer: hours and lateness from its `totals`, the
    unjustified absences (rejected excuses included) listed from its items."""
    listed = sorted(
        (a for a in page.items if counts_as_unjustified(a.kind, a.status)),
        key=lambda a: (a.date, a.start_time),
        reverse=True,
    )
    total = running_total(page.totals, listed=len(listed))
    return AbsenceFigures(
        unjustified=tuple(listed),
        unjustified_count=total.count,
        unjustified_hours=total.hours,
        justified_hours=page.totals.justified_hours,
        late_count=page.totals.late_count,
    )
