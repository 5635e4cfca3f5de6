"""Input normalisation, phone numbers and SMS segment counting."""

from __future__ import annotations

import pytest

from gateway.dialogs.pages import gsm_fold
from gateway.phones import is_mobile, to_e164
from gateway.text import is_gsm7, normalise, script_of, segments


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ARRÊT", "arret"),
        ("  Français ", "francais"),
        ("ABS", "abs"),
        ("غيـــاب", "غياب"),  # tatweel
        ("نُقَط", "نقط"),  # harakat
        ("إعادة التسجيل", "اعاده التسجيل"),  # hamza on alef, taa marbuta
        ("٠٦١٢٣٤٥٦٧٨", "0612345678"),  # Eastern Arabic digits
        ("۱۴۰۹۲۰۱۸", "14092018"),  # Persian digits
        ("１２", "12"),  # full-width digits (NFKC)
        ("a\t\nb", "a b"),
        ("\u200fالنقط\u200f", "النقط"),  # right-to-left marks phones put around Arabic
        ("\u202aZ990000001\u202c", "z990000001"),  # embedding marks around a code
        ("\ufeffabs\u200b", "abs"),  # byte-order mark, zero-width space
        ("\u2067غياب\u2069", "غياب"),  # isolates
    ],
)
def test_normalise_folds_what_phones_vary_on(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


def test_script_detection() -> None:
    assert script_of("غياب") == "ar"
    assert script_of("absences") == "fr"
    assert script_of("12345") is None
    assert script_of("abs غياب") is None


@pytest.mark.parametrize(
    "raw",
    [
        "0612345678",
        "06 12 34 56 78",
        "+212612345678",
        "00212612345678",
        "212612345678",
        "٠٦١٢٣٤٥٦٧٨",
        "whatsapp:+212612345678",
    ],
)
def test_moroccan_mobile_forms_become_one_e164(raw: str) -> None:
    assert to_e164(raw) == "+212612345678"


@pytest.mark.parametrize("raw", ["", "abc", "+2127000123", "12", "+212 6"])
def test_non_numbers_are_refused(raw: str) -> None:
    assert to_e164(raw) is None


def test_landlines_and_toll_free_are_not_mobiles() -> None:
    assert not is_mobile(to_e164("0522123456") or "")
    assert not is_mobile(to_e164("0800001122") or "")
    assert is_mobile("+212600000001")


@pytest.mark.parametrize(
    ("text", "encoding", "units", "parts"),
    [
        ("", "gsm7", 0, 0),
        ("a" * 160, "gsm7", 160, 1),
        ("a" * 161, "gsm7", 161, 2),
        ("a" * 306, "gsm7", 306, 2),
        ("a" * 307, "gsm7", 307, 3),
        ("€" * 80, "gsm7", 160, 1),  # extension characters cost two septets
        ("é è ù à É Ç", "gsm7", 11, 1),  # in the GSM-7 basic table
        ("ç", "ucs2", 1, 1),  # lower-case ç is not
        ("غ" * 70, "ucs2", 70, 1),
        ("غ" * 71, "ucs2", 71, 2),
        ("غ" * 134, "ucs2", 134, 2),
        ("غ" * 135, "ucs2", 135, 3),
        ("😀", "ucs2", 2, 1),  # a surrogate pair is two UTF-16 units
    ],
)
def test_segments_follow_gsm_and_ucs2_rules(
    text: str, encoding: str, units: int, parts: int
) -> None:
    count = segments(text)
    assert (count.encoding, count.units, count.segments) == (encoding, units, parts)


def test_gsm_fold_keeps_french_in_gsm7() -> None:
    text = "Réinscription confirmée à l'école, garçon, fête, même, maître, cœur"
    assert not is_gsm7(text)
    assert is_gsm7(gsm_fold(text))
    assert gsm_fold("غياب") == "غياب"
