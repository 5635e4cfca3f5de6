"""Alert texts fit an SMS: an absence alert is one GSM-7 segment in French and at most two
UCS-2 segments in Arabic, for the longest realistic first names, dates and hours."""

from __future__ import annotations

import pytest

from gateway.alerts.texts import compose
from gateway.text import segments

LONG_NAMES = [
    ("Abderrahmane", "عبد الرحمان"),
    ("Mohamed-Amine", "محمد أمين"),
    ("Fatima-Zahra", "فاطمة الزهراء"),
    ("Salaheddine", "صلاح الدين"),
]


def absence(name_fr: str, name_ar: str, start: str = "14:30", end: str = "16:30") -> dict:
    return {
        "name_fr": name_fr,
        "name_ar": name_ar,
        "date": "2026-12-28",
        "start_time": start,
        "end_time": end,
        "hours": 2,
    }


@pytest.mark.parametrize(("fr", "ar"), LONG_NAMES)
def test_an_absence_alert_fits_one_gsm7_segment_in_french(fr: str, ar: str) -> None:
    text = compose("absence", [absence(fr, ar)], "fr", first=False)
    count = segments(text)
    assert (count.encoding, count.segments) == ("gsm7", 1), text
    assert fr in text
    assert "28/12" in text
    assert "14:30-16:30" in text
    assert "ABS" in text


@pytest.mark.parametrize(("fr", "ar"), LONG_NAMES)
def test_an_absence_alert_fits_two_ucs2_segments_in_arabic(fr: str, ar: str) -> None:
    for first in (False, True):  # the first one also says how to stop
        text = compose("absence", [absence(fr, ar)], "ar", first=first)
        count = segments(text)
        assert count.encoding == "ucs2"
        assert count.segments <= 2, (len(text), text)
        assert ar in text
        assert "14:30" in text
        assert "غياب" in text  # the keyword to reply


def test_the_first_alert_says_how_to_stop_and_still_fits_two_segments_in_french() -> None:
    text = compose("absence", [absence(*LONG_NAMES[1])], "fr", first=True)
    assert "STOP" in text
    assert segments(text).segments <= 2
    assert segments(text).encoding == "gsm7"


def test_marks_and_decisions_name_the_child_and_what_to_do() -> None:
    marks = compose("marks", [{"name_fr": "Youssef", "semester": 1}], "fr", first=False)
    assert marks == "Massar: notes du semestre 1 publiees pour Youssef. Repondez NOTES."
    approved = compose(
        "enrolment",
        [{"name_fr": "Adam", "number": "PRE-2026-0000002", "to": "approved"}],
        "fr",
        first=False,
    )
    assert "PRE-2026-0000002" in approved
    assert "inscription" in approved
    rejected = compose(
        "enrolment",
        [
            {
                "name_ar": "آدم",
                "number": "PRE-2026-0000003",
                "to": "rejected",
                "reason": "age_not_met",
            }
        ],
        "ar",
        first=False,
    )
    assert "0800001122" in rejected
    assert "السن" in rejected
    assert segments(marks).segments == 1


def test_absences_merged_for_one_child_list_each_one_in_order() -> None:
    items = [
        absence("Youssef", "يوسف", "08:30", "10:30"),
        absence("Youssef", "يوسف", "14:30", "15:30"),
    ]
    items[1]["date"] = "2026-12-29"
    text = compose("absence", items, "fr", first=False)
    assert text.index("28/12 08:30-10:30") < text.index("29/12 14:30-15:30")
    assert segments(text).segments == 1
