"""Numbers, marks, dates, times and codes in words, for a channel that speaks (voice).

```
decimal(14.5, "fr")          -> "quatorze virgule cinq"
decimal(14.5, "ar")          -> "أربعة عشر فاصلة خمسة"
day(date(2026, 5, 18), "fr") -> "lundi dix-huit mai"
digits("PRE-2026-0000001")   -> "P R E, deux zéro deux six, zéro zéro … un"
```
A text-to-speech voice reads "14,5" as "fourteen, five" and "18/05" as a fraction: everything
it will say is written out first. Integers come from num2words (Arabic and French); the
decimal part is read as a number after "virgule" / "فاصلة", as people say marks. Plural forms
(Arabic has six) stay with babel's catalogs: `SpokenTranslator` picks a form by the count.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from functools import cache

from babel.dates import format_date
from num2words import num2words

from gateway.dialogs.spoken_texts import VARIANTS, Counted
from gateway.i18n import Translator, _load

DECIMAL_WORD = {"fr": "virgule", "ar": "فاصلة"}
_YEAR = re.compile(r"^(19|20)[0-9]{2}$")
# Each value a spoken text holds sits between Unicode's directional isolates (FSI, PDI): they
# keep a Latin name apart in Arabic text, and a voice without text-to-speech (Darija) finds in
# them what to put together from recorded words. `plain()` drops them for a voice that reads.
FSI, PDI = "\u2068", "\u2069"
_FEMININE_ONE = re.compile(r"\bun(\u2069?) (heures?|absences?|notes?)\b")
# Symbols a voice reads badly or aloud ("slash", "deux points"): a pause or nothing instead.
_PAUSES = str.maketrans({"/": " ", "=": ",", ";": ",", "(": "", ")": "", "*": " ", "#": " "})


class SpokenNumber(str):
    """A number in words that remembers its value (a plural form is chosen by it)."""

    value: float

    def __new__(cls, words: str, value: float) -> SpokenNumber:
        obj = super().__new__(cls, words)
        obj.value = value
        return obj


def cardinal(n: int, lang: str) -> str:
    return str(num2words(n, lang=lang))


def decimal(value: float | Decimal | int, lang: str) -> str:
    """14.5 -> "quatorze virgule cinq"; 14.25 -> "quatorze virgule vingt-cinq"; 7 -> "sept"."""
    text = format(Decimal(str(value)).normalize(), "f")
    whole, _, fraction = text.partition(".")
    words = cardinal(int(whole), lang)
    if fraction.strip("0"):
        zeros = len(fraction) - len(fraction.lstrip("0"))
        parts = [cardinal(0, lang)] * zeros + [cardinal(int(fraction), lang)]
        words = f"{words} {DECIMAL_WORD[lang]} {' '.join(parts)}"
    return words


def day(value: date, lang: str) -> str:
    """Weekday, day and month: "lundi dix-huit mai" / "الاثنين ثمانية عشر ماي"."""
    locale = "fr_MA" if lang == "fr" else "ar_MA"
    weekday = format_date(value, "EEEE", locale=locale)
    month = format_date(value, "MMMM", locale=locale)
    number = cardinal(value.day, lang)
    if value.day == 1:  # the first of the month: "premier", "فاتح" (as Moroccans say it)
        number = "premier" if lang == "fr" else "فاتح"
    return f"{weekday} {number} {month}"


def time_of_day(value: datetime, lang: str) -> str:
    """10:05 -> "dix heures cinq" / "الساعة عشرة و خمسة دقيقة"."""
    hours, minutes = cardinal(value.hour, lang), cardinal(value.minute, lang)
    if lang == "fr":
        unit = "heure" if value.hour == 1 else "heures"
        hours = "une" if value.hour == 1 else hours
        return f"{hours} {unit} {minutes}" if value.minute else f"{hours} {unit}"
    return f"الساعة {hours} و {minutes} دقيقة" if value.minute else f"الساعة {hours}"


def digits(code: str, lang: str) -> str:
    """A code read one sign at a time, groups apart: letters as letters, digits in words."""
    groups = [g for g in re.split(r"[\s\-_/.]+", code) if g]
    said = []
    for group in groups:
        signs = [cardinal(int(ch), lang) if ch.isdigit() else ch for ch in group]
        said.append(" ".join(signs))
    return ", ".join(said)


def words_for(value: str, lang: str) -> str:
    """A value that still holds digits, as a voice should say it: a year ("2025") as a number,
    a code or an application number digit by digit; other signs as pauses."""
    if not any(ch.isdigit() for ch in value):
        return value
    tokens = []
    for token in value.split():
        core = token.strip(".,:")
        if not any(ch.isdigit() for ch in core):
            tokens.append(token)
        elif all(_YEAR.match(part) for part in core.split("-")):
            tokens.append(" ".join(cardinal(int(part), lang) for part in core.split("-")))
        elif re.fullmatch(r"[0-9]{1,2}", core):
            tokens.append(cardinal(int(core), lang))
        else:
            tokens.append(digits(core, lang))
    return " ".join(tokens)


def for_the_ear(text: str) -> str:
    """Punctuation a voice would read out or stumble on, as pauses: "Absences : 2" has none
    left to say, and a line keeps its full stop."""
    lines = []
    for line in text.split("\n"):
        line = line.translate(_PAUSES).replace("%", "")
        line = re.sub(r"\s*:\s*$", ".", line.strip())
        line = re.sub(r"\s*:\s*", ", ", line)
        line = re.sub(r"\s*,(\s*,)*", ",", line)
        lines.append(re.sub(r"\s{2,}", " ", line).strip())
    return "\n".join(lines)


# Arabic numbers agree with what they count, which num2words cannot know: 3-10 take the
# opposite gender of a feminine noun ("ثلاث ساعات"), and tens after a preposition or a verb
# are genitive or accusative ("من عشرين", "اضغط اثنين").
_AR_FEMININE_COUNT = re.compile(r"\b(ثلاث|أربع|خمس|ست|سبع|ثماني|تسع|عشر)ة(\u2069?) (ساعات)")
_AR_OBLIQUE = re.compile(r"\b(من|اضغط) (\u2068?)([^\s\u2069]+?)(ون|ان)(?=\u2069|\s|[.,،]|$)")


def arabic_agreement(text: str) -> str:
    text = _AR_FEMININE_COUNT.sub(r"\1\2 \3", text)
    return _AR_OBLIQUE.sub(r"\1 \2\3ين", text)


def plain(text: str) -> str:
    """A spoken text without the isolates around its values."""
    return text.replace(FSI, "").replace(PDI, "")


class SpokenTranslator(Translator):
    """A `Translator` whose texts are for the ear: spoken variants, numbers and dates in
    words, codes digit by digit, no symbols."""

    def gettext(self, message: str, **values: object) -> str:
        variant = VARIANTS.get(message, message)
        if isinstance(variant, Counted):
            count = values.get(variant.by)
            n = count.value if isinstance(count, SpokenNumber) else 2
            plural = int(n) if float(n).is_integer() else 100  # 1,5 h: the "many" form
            text = self._t.ngettext(variant.forms[0], variant.forms[1], plural)
            return self._say(text, values)
        if isinstance(variant, tuple):  # not used by messages without a count
            variant = variant[0]
        return self._say(self._t.gettext(variant), values)

    def ngettext(self, forms: tuple[str, str], n: int, **values: object) -> str:
        variant = VARIANTS.get(forms, forms)
        pair = variant.forms if isinstance(variant, Counted) else variant
        if isinstance(pair, str):
            pair = (pair, pair)
        text = self._t.ngettext(pair[0], pair[1], n)
        return self._say(text, {"n": self.number(n), **values})

    def _say(self, text: str, values: dict[str, object]) -> str:
        if values:
            text = text % {key: f"{FSI}{self._value(value)}{PDI}" for key, value in values.items()}
        # num2words says "un" (these French nouns are feminine) and knows no Arabic agreement.
        text = _FEMININE_ONE.sub(r"une\1 \2", text) if self.lang == "fr" else arabic_agreement(text)
        return for_the_ear(text)

    def _value(self, value: object) -> str:
        if isinstance(value, SpokenNumber):
            return str(value)
        if isinstance(value, bool):
            return str(value)
        if isinstance(value, int | float | Decimal):
            return self.number(value)
        return words_for(str(value), self.lang)

    def number(self, value: float | Decimal | int) -> str:
        return SpokenNumber(decimal(value, self.lang), float(value))

    def day(self, value: date) -> str:
        return day(value, self.lang)

    def time(self, value: datetime) -> str:
        return time_of_day(value, self.lang)

    def join(self, items: list[str]) -> str:
        return ", ".join(items)


@cache
def spoken_translator(lang: str) -> SpokenTranslator:
    """The one spoken `Translator` of `lang` (no state of a turn: shared by all of them)."""
    return SpokenTranslator(lang, _load(lang))
