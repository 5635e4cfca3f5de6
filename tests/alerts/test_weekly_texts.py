"""The weekly summary's text: one GSM-7 SMS in French and two UCS-2 segments in Arabic for a
usual week (one or two absences, or one with marks published), for long first names; it says
only what the phone chose (absences only, marks only) and what to reply."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from backend_client.models import AbsenceRecord
from gateway.alerts.weekly import Week, summary_text
from gateway.dialogs.absences import AbsenceFigures
from gateway.text import segments

LONG_NAMES = [("Abderrahmane", "عبد الرحمان"), ("Mohamed-Amine", "فاطمة الزهراء")]


def record(day: int) -> AbsenceRecord:
    return AbsenceRecord(
        id=f"abs_{day}",
        date=date(2026, 5, day),
        start_time=time(8, 30),
        end_time=time(10, 30),
        hours=2,
        kind="absence",
        status="unjustified",
        recorded_at=datetime(2026, 5, day, 9, 0, tzinfo=UTC),
    )


def week(
    names: tuple[str, str], absent: int, semesters: tuple[int, ...], *, absences: bool = True
) -> Week:
    listed = tuple(record(18 + i) for i in range(absent))
    figures = AbsenceFigures(
        unjustified=listed * 6,
        unjustified_count=len(listed) * 6,
        unjustified_hours=34.5,
        justified_hours=2,
        late_count=1,
    )
    return Week(
        name_fr=names[0],
        name_ar=names[1],
        absent=listed if absences else None,
        figures=figures if absences else None,
        semesters=semesters,
        today=date(2026, 5, 22),
        since=date(2025, 9, 1),
    )


@pytest.mark.parametrize("names", LONG_NAMES)
@pytest.mark.parametrize(("absent", "semesters"), [(1, ()), (2, ()), (1, (2,)), (0, (1,))])
def test_a_usual_week_fits_one_sms_in_french_and_two_segments_in_arabic(
    names: tuple[str, str], absent: int, semesters: tuple[int, ...]
) -> None:
    fr = summary_text(week(names, absent, semesters), "fr", first=False)
    assert (segments(fr).encoding, segments(fr).segments) == ("gsm7", 1), (len(fr), fr)
    ar = summary_text(week(names, absent, semesters), "ar", first=False)
    assert segments(ar).encoding == "ucs2"
    assert segments(ar).segments <= 2, (len(ar), ar)
    assert names[0] in fr
    assert names[1] in ar
    assert "22/05" in fr
    assert "01/09: " in fr
    assert "(34,5 h)" in fr


def test_it_lists_each_day_once_and_says_what_to_reply() -> None:
    text = summary_text(week(LONG_NAMES[0], 2, (2,)), "fr", first=False)
    assert "2 absences non justifiées (18/05, 19/05)." in text
    assert "Notes du S2 publiées." in text
    assert text.endswith("Répondez ABS ou NOTES.")
    nothing = summary_text(week(LONG_NAMES[0], 0, (1,)), "fr", first=False)
    assert "Aucune absence non justifiée." in nothing


def test_marks_only_says_no_absence_and_absences_only_no_marks() -> None:
    marks_only = summary_text(week(LONG_NAMES[1], 0, (2,), absences=False), "ar", first=False)
    assert "غياب" not in marks_only.replace("أرسل نقط.", "")
    assert marks_only.endswith("أرسل نقط.")
    absences_only = summary_text(week(LONG_NAMES[1], 1, ()), "ar", first=False)
    assert "نقط" not in absences_only
    assert absences_only.endswith("أرسل غياب.")


def test_the_first_alert_a_phone_gets_says_how_to_stop() -> None:
    text = summary_text(week(LONG_NAMES[0], 1, ()), "fr", first=True)
    assert text.endswith("Envoyez STOP pour ne plus recevoir ces alertes.")
    assert segments(text).segments <= 2
