"""Alert texts fit an SMS: an alert is one GSM-7 segment in French (two for a phone's first,
which says how to stop) and at most two UCS-2 segments in Arabic, for every kind, the longest
realistic first names, dates, hours and running totals (issue 26 item 9)."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.alerts.texts import DECISIONS, YEAR_DECISIONS, compose
from gateway.dialogs.answer_texts import REASON_TEXTS
from gateway.text import segments

LONG_NAMES = [
    ("Abderrahmane", "عبد الرحمان"),
    ("Mohamed-Amine", "محمد أمين"),
    ("Fatima-Zahra", "فاطمة الزهراء"),
    ("Salaheddine", "صلاح الدين"),
]


WORST_TOTAL = {"count": 99, "hours": 199.5}  # a chronic absentee's year: the longest figures


def absence(name_fr: str, name_ar: str, start: str = "14:30", end: str = "16:30") -> dict:
    return {
        "name_fr": name_fr,
        "name_ar": name_ar,
        "date": "2026-12-28",
        "start_time": start,
        "end_time": end,
        "hours": 2,
        "total": WORST_TOTAL,
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


def every_alert(name_fr: str, name_ar: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(label, kind, payload) of every alert text there is, at its longest."""
    names = {"name_fr": name_fr, "name_ar": name_ar}
    longest_day = {**absence(name_fr, name_ar), "date": "2026-12-30"}  # mercredi, الأربعاء
    out = [
        ("absence", "absence", longest_day),
        (
            "absence without times",
            "absence",
            {**longest_day, "start_time": None, "end_time": None, "hours": 7.5},
        ),
        ("excuse refused", "absence", {**longest_day, "refused": True}),
        ("marks", "marks", {**names, "semester": 2, "school_year": "2025-2026"}),
    ]
    for decision in YEAR_DECISIONS:
        year = {**names, "school_year": "2025-2026", "decision": decision}
        out.append((f"year result {decision}", "result", year))
    for decision in DECISIONS:
        for reason in [*REASON_TEXTS, None]:
            application = {**names, "number": "PRE-2026-0000123", "to": decision}
            out.append(
                (f"enrolment {decision} {reason}", "enrolment", {**application, "reason": reason})
            )
    return out


@pytest.mark.parametrize(("fr", "ar"), LONG_NAMES)
@pytest.mark.parametrize("first", [False, True])
def test_every_kind_and_language_fits_its_size(fr: str, ar: str, first: bool) -> None:
    for label, kind, payload in every_alert(fr, ar):
        french = compose(kind, [payload], "fr", first=first)
        count = segments(french)
        assert count.encoding == "gsm7", (label, french)  # GSM-7 letters only
        assert not {"\u2013", "\u2014"} & set(french)  # a plain hyphen, no dash
        assert count.segments <= (2 if first else 1), (label, count, french)
        arabic = compose(kind, [payload], "ar", first=first)
        assert segments(arabic).segments <= 2, (label, segments(arabic), arabic)


def test_the_absence_alert_says_the_running_total_and_what_to_reply() -> None:
    item = {**absence("Youssef", "يوسف", "08:30", "10:30"), "total": {"count": 5, "hours": 9}}
    item["date"] = "2026-12-28"  # a Monday
    assert compose("absence", [item], "fr", first=False) == (
        "Massar: Youssef absent(e) le lundi 28/12, 08:30-10:30, non justifiée. "
        "5 absences non justifiées (9 h) depuis septembre. Répondez ABS."
    )
    arabic = compose("absence", [item], "ar", first=False)
    assert "الاثنين 28/12" in arabic
    assert "منذ شتنبر: 5 غيابات غير مبررة (9 س)." in arabic
    one = compose("absence", [{**item, "total": {"count": 1, "hours": 1.5}}], "fr", first=False)
    assert "1 absence non justifiée (1,5 h) depuis septembre." in one


def test_the_parents_language_is_the_texts_and_a_missing_total_says_none() -> None:
    item = absence("Youssef", "يوسف")
    assert "يوسف" in compose("absence", [item], "ar", first=False)
    bare = {k: v for k, v in item.items() if k != "total"}  # a backend without totals
    text = compose("absence", [bare], "fr", first=False)
    assert "depuis septembre" not in text
    assert text.endswith("Répondez ABS.")


def test_merged_absences_keep_the_latest_total() -> None:
    earlier = {**absence("Youssef", "يوسف", "08:30", "10:30"), "total": {"count": 4, "hours": 7}}
    later = {**absence("Youssef", "يوسف"), "total": {"count": 5, "hours": 9}, "date": "2026-12-29"}
    text = compose("absence", [earlier, later], "fr", first=False)
    assert "28/12 08:30-10:30, 29/12 14:30-16:30" in text
    assert "5 absences non justifiées (9 h)" in text
    assert "4 absences" not in text
    refused = {**later, "refused": True, "total": {"count": 6, "hours": 11}}
    merged = compose("absence", [earlier, refused], "fr", first=False)
    assert "29/12 (excuse refusée)" in merged
    assert "6 absences non justifiées (11 h)" in merged


def test_an_excuse_refused_is_a_short_correction_with_the_new_total() -> None:
    item = {**absence("Salma", "سلمى"), "refused": True, "total": {"count": 3, "hours": 5}}
    assert compose("absence", [item], "fr", first=False) == (
        "Massar: excuse refusée, l'absence de Salma le 28/12 reste non justifiée. "
        "3 absences non justifiées (5 h) depuis septembre. Répondez ABS."
    )
    assert "رُفض عذر غياب سلمى" in compose("absence", [item], "ar", first=False)


def test_year_results_say_the_decision() -> None:
    payload = {"name_fr": "Adam", "name_ar": "آدم", "school_year": "2025-2026"}
    repeat = compose("result", [{**payload, "decision": "repeat"}], "fr", first=False)
    assert repeat == "Massar: résultat de l'année 2025-2026 de Adam: redoublement. Répondez NOTES."
    promoted = compose("result", [{**payload, "decision": "promoted"}], "ar", first=False)
    assert "آدم" in promoted
    assert "الانتقال إلى المستوى الموالي" in promoted
