"""Every sentence the dialogs say exists in Arabic and French, complete and well-formed."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from gateway.alerts import texts as alert_texts
from gateway.dialogs import texts
from gateway.dialogs.pages import gsm_fold
from gateway.i18n import LOCALES_DIR, translator
from gateway.text import is_gsm7

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def catalog(lang: str):  # type: ignore[no-untyped-def]
    with (LOCALES_DIR / lang / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return read_po(fh, locale=lang)


def used_messages() -> list[str | tuple[str, str]]:
    """The dialogs' messages and the alerts' (gateway/alerts/texts.py)."""
    return [
        v
        for module in (texts, alert_texts)
        for k, v in vars(module).items()
        if k.isupper() and isinstance(v, str | tuple)
    ]


@pytest.mark.parametrize("lang", ["ar", "fr"])
def test_every_message_is_translated_and_not_fuzzy(lang: str) -> None:
    cat = catalog(lang)
    for message in used_messages():
        msgid = message[0] if isinstance(message, tuple) else message
        entry = cat.get(msgid)
        assert entry is not None, f"{lang}: missing {msgid!r}"
        assert not entry.fuzzy, f"{lang}: fuzzy {msgid!r}"
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        assert all(strings), f"{lang}: untranslated {msgid!r}"


@pytest.mark.parametrize("lang", ["ar", "fr"])
def test_translations_use_only_the_placeholders_of_their_msgid(lang: str) -> None:
    for entry in catalog(lang):
        if not entry.id:
            continue
        ids = entry.id if isinstance(entry.id, tuple) else (entry.id,)
        allowed = {name for msgid in ids for name in PLACEHOLDER.findall(msgid)}
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        for text in strings:
            assert set(PLACEHOLDER.findall(text)) <= allowed, (lang, entry.id, text)
        if not isinstance(entry.id, tuple):  # a plural's zero form may drop the count
            assert set(PLACEHOLDER.findall(strings[0])) == allowed, (lang, entry.id)


def test_catalogs_are_up_to_date_with_the_code(tmp_path: Path) -> None:
    pot = tmp_path / "messages.pot"
    subprocess.run(  # noqa: S603
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg",
         "-k", "N_", "-k", "Np_:1,2", "--no-location", "--omit-header", "-o", str(pot), "."],
        cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    with pot.open("rb") as fh:
        extracted = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fh) if m.id}
    for lang in ("ar", "fr"):
        known = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog(lang) if m.id}
        assert extracted == known, f"run `make catalogs`: {sorted(extracted ^ known)}"


def test_arabic_has_six_plural_forms_that_agree_with_the_count() -> None:
    cat = catalog("ar")
    assert cat.num_plurals == 6
    t = translator("ar")

    def header(n: int) -> str:
        return t.ngettext(texts.ABSENCES_HEADER, n, name="س", hours="1", since="01/09")

    assert "لا غياب" in header(0)
    assert "غياب واحد" in header(1)
    assert "غيابان" in header(2)
    assert "3 غيابات" in header(3)
    assert "11 غيابا" in header(11)  # 11-99: accusative singular
    assert "100 غياب " in header(100)  # 100-102: genitive singular


def test_french_plural_and_number_format() -> None:
    t = translator("fr")
    one = t.ngettext(texts.ABSENCES_HEADER, 1, name="Y", hours=t.number(2.5), since="01/09")
    many = t.ngettext(texts.ABSENCES_HEADER, 3, name="Y", hours=t.number(14.69), since="01/09")
    assert "1 absence non justifiée (2,5 h)" in one
    assert "3 absences non justifiées (14,69 h)" in many


def test_arabic_replies_use_western_digits() -> None:
    t = translator("ar")
    assert t.number(14.69) == "14,69"
    assert all(not ("\u0660" <= ch <= "\u0669") for ch in t.gettext(texts.HELP_TEXT))


def test_french_sms_texts_fit_gsm7_once_folded() -> None:
    for entry in catalog("fr"):
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        for text in strings:
            if entry.id:
                assert is_gsm7(gsm_fold(text)), text
