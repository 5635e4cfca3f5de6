"""Every refusal says what to do next (issue 22): how long a lockout lasts and the hotline;
a phone Massar links to no child is told so and how to fix it; a known phone with a wrong
code keeps the one mismatch reply (never confirming what matched)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient

from gateway.dialogs import texts
from gateway.dialogs.answers import locked_text
from gateway.dialogs.pages import gsm_fold
from gateway.i18n import translator
from gateway.text import is_gsm7
from tests.gateway.conftest import SmsPhone

UNKNOWN = "+212600000777"  # no guardian has this phone
NO_CHILD = "+212600000099"  # a guardian record linked to no student (Massar: Arabic)
FR_GUARDIAN = "+212700000001"


def say(lang: str, msgid: str) -> str:
    text = translator(lang).gettext(msgid)
    return gsm_fold(text) if lang == "fr" else text


@pytest.mark.parametrize(
    ("phone", "lang"), [(UNKNOWN, "fr"), (NO_CHILD, "ar")], ids=["unknown", "no-child"]
)
def test_a_phone_linked_to_no_child_sending_a_code_and_date_is_told_how_to_fix_it(
    gateway: TestClient, phone: str, lang: str
) -> None:
    # UNKNOWN: Massar knows no guardian, so the words typed decide (French here).
    # NO_CHILD: the guardian record's Arabic.
    text = "code Z990000001 14092018" if phone == UNKNOWN else "Z990000001 14092018"
    reply = SmsPhone(gateway, phone).send(text)
    expected = say(lang, texts.NOT_REGISTERED)
    assert reply == expected
    assert "0800 00 11 22" in reply
    assert "Youssef" not in reply
    assert "يوسف" not in reply


def test_a_known_phone_with_a_wrong_code_gets_the_uniform_mismatch(gateway: TestClient) -> None:
    sms = SmsPhone(gateway, FR_GUARDIAN)
    wrong_date = sms.send("Z990000001 01012015")  # a real child, a wrong birth date
    wrong_code = sms.send("Z000000042 14092018")  # a code nobody has
    mismatch = say("fr", texts.NO_MATCH)
    assert wrong_date.startswith(mismatch)
    assert wrong_code.startswith(mismatch)
    assert translator("fr").gettext(texts.NOT_REGISTERED)[:20] not in wrong_date


@pytest.mark.parametrize(
    ("seconds", "lang", "expected"),
    [
        (900.4, "fr", "Trop d'essais. Réessayez dans 15 minutes ou appelez le 0800 00 11 22"),
        (60, "fr", "Trop d'essais. Réessayez dans 1 minute ou appelez le 0800 00 11 22"),
        (86_400, "fr", "Trop d'essais. Réessayez dans 24 heures ou appelez le 0800 00 11 22"),
        (None, "fr", "Trop d'essais. Réessayez plus tard ou appelez le 0800 00 11 22"),
        (900, "ar", "محاولات كثيرة. أعد المحاولة بعد 15 دقيقة أو اتصل بالرقم المجاني"),
        (86_400, "ar", "محاولات كثيرة. أعد المحاولة بعد 24 ساعة أو اتصل بالرقم المجاني"),
    ],
)
def test_the_lockout_says_how_long_and_the_hotline(
    seconds: float | None, lang: str, expected: str
) -> None:
    conv = SimpleNamespace(t=translator(lang))
    text = locked_text(conv, seconds)  # type: ignore[arg-type]
    assert text.startswith(expected), text
    assert "0800 00 11 22" in text


def test_french_confirmations_keep_the_accents_gsm_7_carries(gateway: TestClient) -> None:
    stopped = SmsPhone(gateway, FR_GUARDIAN).send("ARRÊT")  # Twilio answers STOP itself
    assert "numéro" in stopped  # é is a GSM-7 letter: kept
    assert is_gsm7(stopped)  # one 160-character SMS, not a 70-character UCS-2 one
    started = SmsPhone(gateway, FR_GUARDIAN).send("START")
    assert "réactivées" in started
    assert "arreter" in started  # ê is not: folded
