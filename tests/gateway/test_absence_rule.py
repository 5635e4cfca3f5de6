"""The one rule for absence figures (`gateway/dialogs/absences.py`): every kind × status, the
lines a parent reads ("excuse refused"), and the lateness shown apart."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from backend_client.models import (
    AbsenceKind,
    AbsenceRecord,
    AbsencesPage,
    AbsenceStatus,
    AbsenceTotals,
)
from gateway.dialogs.absences import (
    absence_figures,
    counts_as_justified,
    counts_as_unjustified,
    totals_of,
)
from gateway.dialogs.answer_texts import absence_line
from gateway.i18n import translator

K, S = AbsenceKind, AbsenceStatus
# kind, status -> (counts as unjustified, counts as justified, is a lateness)
TABLE = [
    (K.ABSENCE, S.UNJUSTIFIED, (True, False, False)),
    (K.ABSENCE, S.REJECTED, (True, False, False)),
    (K.ABSENCE, S.JUSTIFIED, (False, True, False)),
    (K.LATE, S.UNJUSTIFIED, (False, False, True)),
    (K.LATE, S.REJECTED, (False, False, True)),
    (K.LATE, S.JUSTIFIED, (False, False, True)),
]


def record(
    kind: AbsenceKind, status: AbsenceStatus, *, day: int = 12, hours: float = 2
) -> AbsenceRecord:
    return AbsenceRecord(
        id=f"abs_{kind}_{status}_{day}",
        date=date(2026, 5, day),
        start_time=time(8, 30),
        end_time=time(10, 30),
        hours=hours,
        kind=kind,
        status=status,
        recorded_at=datetime(2026, 5, day, 11, 0, tzinfo=UTC),
    )


def test_the_table_covers_every_kind_and_status() -> None:
    assert {(k, s) for k, s, _ in TABLE} == {(k, s) for k in AbsenceKind for s in AbsenceStatus}


@pytest.mark.parametrize(("kind", "status", "expected"), TABLE, ids=str)
def test_each_kind_and_status(
    kind: AbsenceKind, status: AbsenceStatus, expected: tuple[bool, bool, bool]
) -> None:
    unjustified, justified, late = expected
    assert counts_as_unjustified(kind, status) is unjustified
    assert counts_as_unjustified(kind.value, status.value) is unjustified  # raw feed values
    assert counts_as_justified(kind, status) is justified
    totals = totals_of([record(kind, status)])
    assert totals == AbsenceTotals(
        unjustified_hours=2 if unjustified else 0,
        justified_hours=2 if justified else 0,
        late_count=1 if late else 0,
        unjustified_count=1 if unjustified else 0,
    )


def test_figures_list_unjustified_and_refused_newest_first_and_take_the_backend_totals() -> None:
    items = (
        record(K.ABSENCE, S.UNJUSTIFIED, day=11),
        record(K.ABSENCE, S.REJECTED, day=16, hours=1),
        record(K.ABSENCE, S.JUSTIFIED, day=13),
        record(K.LATE, S.UNJUSTIFIED, day=14, hours=1),
    )
    # The backend's totals cover the whole year, not only the page: they are what is shown.
    totals = AbsenceTotals(unjustified_hours=9, justified_hours=4, late_count=3)
    figures = absence_figures(AbsencesPage(items=items, totals=totals))
    assert [a.date.day for a in figures.unjustified] == [16, 11]
    assert figures.unjustified_count == 2  # a backend without the count: the listed ones
    assert (figures.unjustified_hours, figures.justified_hours, figures.late_count) == (9, 4, 3)
    # A backend that counts gives the year's count, whatever the page holds.
    counted = AbsencesPage(items=items, totals=totals.model_copy(update={"unjustified_count": 5}))
    assert absence_figures(counted).unjustified_count == 5


@pytest.mark.parametrize(
    ("lang", "refused", "plain", "late"),
    [
        ("fr", "16/05 : 1 h (excuse refusée)", "11/05 : 2 h", "14/05 : retard"),
        ("ar", "16/05: 1 س (رُفض العذر)", "11/05: 2 س", "14/05: تأخر"),
    ],
)
def test_lines_say_excuse_refused(lang: str, refused: str, plain: str, late: str) -> None:
    t = translator(lang)
    assert absence_line(t, record(K.ABSENCE, S.REJECTED, day=16, hours=1)) == refused
    assert absence_line(t, record(K.ABSENCE, S.UNJUSTIFIED, day=11)) == plain
    assert absence_line(t, record(K.LATE, S.UNJUSTIFIED, day=14)) == late
