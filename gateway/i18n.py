"""Message catalogs (gettext, built with babel) and locale-aware formatting.

Catalogs live in `gateway/locales/<lang>/LC_MESSAGES/messages.po`; `make catalogs` extracts,
updates and compiles them. msgids are whole English sentences with named placeholders
(`%(hours)s`); counts go through `ngettext` (Arabic has six plural forms). Numbers and dates
use the Moroccan locales, whose digits are Western in both languages (they render everywhere).
"""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path

from babel.core import Locale
from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations

LOCALES_DIR = Path(__file__).parent / "locales"
DOMAIN = "messages"
LANGS = ("ar", "fr")
_BABEL_LOCALE = {"ar": "ar_MA", "fr": "fr_MA"}


def N_(message: str) -> str:
    """Mark `message` for `pybabel extract`; it is translated where it is shown."""
    return message


def Np_(singular: str, plural: str) -> tuple[str, str]:
    """Mark a (singular, plural) pair for `pybabel extract` (`ngettext` picks the form)."""
    return (singular, plural)


class Translator:
    """gettext for one language, plus number and date formatting in that language."""

    def __init__(self, lang: str, translations: Translations) -> None:
        self.lang = lang
        self.locale = Locale.parse(_BABEL_LOCALE[lang])
        self._t = translations

    def gettext(self, message: str, **values: object) -> str:
        text = self._t.gettext(message)
        return text % values if values else text

    def ngettext(self, forms: tuple[str, str], n: int, **values: object) -> str:
        """`forms` is a (singular, plural) pair marked with `Np_`; `%(n)s` is the count."""
        text = self._t.ngettext(forms[0], forms[1], n)
        return text % {"n": n, **values}

    def number(self, value: float | Decimal | int) -> str:
        """14.69 -> '14,69' (both locales use a decimal comma and Western digits)."""
        return format_decimal(value, format="#,##0.##", locale=self.locale)

    def day(self, value: date) -> str:
        """A short day for SMS and USSD: '12/05'."""
        return format_date(value, "dd/MM", locale=self.locale)

    def time(self, value: datetime) -> str:
        """A time of day: '10:05'."""
        return f"{value:%H:%M}"

    def join(self, items: list[str]) -> str:
        """Short items in a row (marks): '13,5 15 abs'."""
        return " ".join(items)


@cache
def _load(lang: str) -> Translations:
    po = LOCALES_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    mo = po.with_suffix(".mo")
    if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
        with mo.open("rb") as fh:
            return Translations(fh, domain=DOMAIN)
    # No compiled catalog (a fresh checkout before `make catalogs`): compile in memory.
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(buf, domain=DOMAIN)


@cache
def translator(lang: str) -> Translator:
    """The one `Translator` of `lang` (it holds no state of a turn: shared by all of them)."""
    if lang not in LANGS:
        raise ValueError(f"unsupported language {lang!r}")
    return Translator(lang, _load(lang))
