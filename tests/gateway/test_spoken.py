"""Numbers, marks, dates, times and codes in words for the voice (gateway/spoken.py), and the
spoken variants of screen texts (gateway/dialogs/spoken_texts.py)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from gateway.dialogs import spoken_texts, texts
from gateway.i18n import translator
from gateway.spoken import (
    day,
    decimal,
    digits,
    for_the_ear,
    plain,
    spoken_translator,
    time_of_day,
    words_for,
)


@pytest.mark.parametrize(
    ("value", "lang", "said"),
    [
        (14.5, "fr", "quatorze virgule cinq"),
        (14.25, "fr", "quatorze virgule vingt-cinq"),
        (14.05, "fr", "quatorze virgule zéro cinq"),
        (20, "fr", "vingt"),
        (14.5, "ar", "أربعة عشر فاصلة خمسة"),
        (0, "ar", "صفر"),
    ],
)
def test_marks_are_said_as_people_say_them(value: float, lang: str, said: str) -> None:
    assert decimal(value, lang) == said


def test_a_mark_out_of_twenty_in_arabic_is_genitive() -> None:
    t = spoken_translator("ar")
    line = t.gettext(
        texts.SUBJECT_LINE, subject="الرياضيات", marks=t.number(14.5), average=t.number(14.5),
        scale=t.number(20),
    )  # fmt: skip
    assert "أربعة عشر فاصلة خمسة من عشرين" in plain(line)


def test_dates_and_times_are_said_in_words() -> None:
    assert day(date(2026, 5, 18), "fr") == "lundi dix-huit mai"
    assert day(date(2025, 9, 1), "fr") == "lundi premier septembre"
    assert day(date(2026, 5, 18), "ar") == "الاثنين ثمانية عشر ماي"
    assert time_of_day(datetime(2026, 5, 18, 10, 5), "fr") == "dix heures cinq"  # noqa: DTZ001
    assert time_of_day(datetime(2026, 5, 18, 1, 0), "fr") == "une heure"  # noqa: DTZ001


def test_codes_are_read_digit_by_digit_and_years_as_numbers() -> None:
    assert digits("PRE-2026-0000001", "fr") == (
        "P R E, deux zéro deux six, zéro zéro zéro zéro zéro zéro un"
    )
    assert words_for("2025-2026", "fr") == "deux mille vingt-cinq deux mille vingt-six"
    assert words_for("Z990000001", "ar").startswith("Z تسعة تسعة صفر")


def test_symbols_become_pauses() -> None:
    assert for_the_ear("Notes : 3/4 (bien) = 50%") == "Notes, 3 4 bien, 50"
    assert for_the_ear("Services Massar :") == "Services Massar."


ARABIC_HOURS = [(1, "ساعة غياب واحدة"), (2, "ساعتا غياب"), (3, "ثلاث ساعات غياب"),
                (11, "أحد عشر ساعة غياب")]  # fmt: skip


@pytest.mark.parametrize(("hours", "said"), ARABIC_HOURS)
def test_arabic_hours_take_the_plural_form_of_their_count(hours: int, said: str) -> None:
    t = spoken_translator("ar")
    line = t.gettext(texts.ABSENCE_LINE, day=t.day(date(2026, 5, 18)), hours=t.number(hours))
    assert said in plain(line)


def test_french_counts_agree_with_feminine_nouns() -> None:
    t = spoken_translator("fr")
    line = t.gettext(texts.ABSENCE_LINE, day=t.day(date(2026, 5, 18)), hours=t.number(1))
    assert plain(line) == "Le lundi dix-huit mai, une heure d'absence."
    # Each value between isolates: what a Darija call puts together from recorded words.
    assert line == "Le \u2068lundi dix-huit mai\u2069, \u2068une\u2069 heure d'absence."
    header = t.ngettext(texts.ABSENCES_HEADER, 1, name="Y", hours=t.number(1), since="x")
    assert "une absence non justifiée" in plain(header)


def test_every_spoken_variant_is_translated_and_leaves_no_digit() -> None:
    for lang in ("ar", "fr"):
        t = spoken_translator(lang)
        for key in spoken_texts.VARIANTS:
            if isinstance(key, tuple):
                text = t.ngettext(
                    key, 3, name="Y", hours=t.number(3), since=t.day(date(2026, 1, 5))
                )
            else:
                text = t.gettext(
                    key, name="Y", day=t.day(date(2026, 5, 18)), hours=t.number(2),
                    n=2, semester=2, subject="X", marks=t.join([t.number(12.5)]), mark=t.number(11),
                    average=t.number(12.5), scale=t.number(20), mention="",
                    number="PRE-2026-0000001", status="x", year="2025-2026",
                    when=t.time(datetime(2026, 5, 18, 10, 5)),  # noqa: DTZ001
                )  # fmt: skip
            assert not any(ch.isdigit() for ch in text), (lang, key, text)
            assert text != translator(lang).gettext(key if isinstance(key, str) else key[0]) or (
                not any(ch.isdigit() or ch in ":/=" for ch in text)
            )
