"""Text as phones send and receive it: input normalisation and SMS segment counting.

`normalise` prepares user input for keyword and menu matching (CHANNELS.md §8): no bidi or
zero-width marks, NFKC, Arabic-Indic and Persian digits to ASCII, no tatweel or harakat, one
alef, case-folded, Latin accents stripped. `segments` counts SMS parts the way the network
does: GSM-7 (160 / 153 per part, extension characters cost two) unless one character is
outside it, then UCS-2 (70 / 67, counted in UTF-16 code units).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_DIGITS = str.maketrans(
    {**{0x0660 + i: str(i) for i in range(10)}, **{0x06F0 + i: str(i) for i in range(10)}}
)
# Direction and zero-width marks phones insert around Arabic words (U+200F...U+200F), the
# Arabic letter mark, soft hyphens and byte-order marks: invisible, and they break matching.
_INVISIBLE = re.compile("[\u00ad\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
_ARABIC_MARKS = re.compile("[\u0640\u064b-\u0652\u0670]")  # tatweel, harakat, dagger alef
_ALEFS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه"})
_LATIN_ACCENTS = re.compile("[\u0300-\u036f]")  # combining accents left by NFD: é -> e
_SPACES = re.compile(r"\s+")
_ARABIC_LETTER = re.compile("[\u0621-\u064a]")
_LATIN_LETTER = re.compile("[A-Za-z]")


def ascii_digits(text: str) -> str:
    """Eastern Arabic (U+0660..) and Persian (U+06F0..) digits as ASCII; nothing else changes."""
    return text.translate(_DIGITS)


def normalise(text: str) -> str:
    """The form of `text` used to match keywords and menu choices (never shown to anyone)."""
    text = unicodedata.normalize("NFKC", _INVISIBLE.sub("", text)).translate(_DIGITS)
    text = _ARABIC_MARKS.sub("", text).translate(_ALEFS).casefold()
    text = _LATIN_ACCENTS.sub("", unicodedata.normalize("NFD", text))
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip()


def script_of(text: str) -> str | None:
    """'ar' when `text` has Arabic letters and no Latin ones, 'fr' for the reverse, else None."""
    has_ar = bool(_ARABIC_LETTER.search(text))
    has_latin = bool(_LATIN_LETTER.search(unicodedata.normalize("NFKD", text)))
    if has_ar and not has_latin:
        return "ar"
    if has_latin and not has_ar:
        return "fr"
    return None


# GSM 03.38 basic character set and its extension table (each extension character costs 2).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")


@dataclass(frozen=True, slots=True)
class SegmentCount:
    encoding: str  # "gsm7" or "ucs2"
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int


def is_gsm7(text: str) -> bool:
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def segments(text: str) -> SegmentCount:
    """How many SMS parts `text` takes (0 for an empty text)."""
    if is_gsm7(text):
        units = sum(2 if ch in GSM7_EXTENSION else 1 for ch in text)
        single, multi, encoding = 160, 153, "gsm7"
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, multi, encoding = 70, 67, "ucs2"
    if units == 0:
        return SegmentCount(encoding, 0, 0)
    count = 1 if units <= single else -(-units // multi)
    return SegmentCount(encoding, units, count)


def screen_length(text: str) -> int:
    """Characters a USSD screen spends on `text` (GSM-7 septets, else UTF-16 code units)."""
    return segments(text).units
