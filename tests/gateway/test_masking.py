"""What an operator may read of an unmatched message: no digits, no names."""

from __future__ import annotations

import pytest

from gateway.dialogs.masking import MAX_CHARS, mask

NAMES = ["Youssef", "يوسف", "Khadija", "خديجة"]


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("wach kayn chi haja", "wach kayn chi haja"),
        ("code Z990000001", "code #"),
        ("né le 14/09/2018", "né le #"),
        ("né le 14 09 2018", "né le #"),
        ("mon numero 0612345678", "mon numero #"),
        ("رقمي ٠٦١٢٣٤٥٦٧٨", "رقمي #"),  # Eastern Arabic digits are digits
        ("youssef absent", "* absent"),  # a name the backend gave, any case
        ("النقط ديال يوسف", "النقط ديال *"),
        ("Bonjour c'est la maman de Karim", "Bonjour c'est la maman de *"),  # capitalised
        ("écrivez à a.b@example.com", "écrivez à #"),
        ("voir www.example.ma", "voir #"),
        ("no9at dyal weldi 3afak", "no9at dyal weldi 3afak"),  # Arabizi digits are letters
        ("ab2323", "#"),  # but not a number hidden in a word
        ("3ab1", "#"),
        ("\u200fالغياب\u200f", "الغياب"),
    ],
)
def test_digits_addresses_and_names_are_masked(text: str, masked: str) -> None:
    assert mask(text, NAMES) == masked


def test_a_long_message_is_cut() -> None:
    assert len(mask("bla " * 1000)) == MAX_CHARS
