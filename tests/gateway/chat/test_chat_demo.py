"""The demo of issue #9: the guardian `+212600000001` reaches absences, marks and enrolment
status on WhatsApp (Twilio, Meta) and Telegram, in Arabic and in French, tapping buttons
where the channel has them; and the terminal simulator does the same for each channel."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import anyio
import pytest

from gateway.cli.simulate import converse
from gateway.dialogs import texts
from gateway.i18n import translator
from tests.gateway.chat.handsets import (
    ChatGateway,
    MetaHandset,
    Screen,
    TelegramHandset,
    TwilioHandset,
)
from tests.gateway.conftest import gateway_settings

pytestmark = pytest.mark.redis

GUARDIAN = "+212600000001"
NAME = {"ar": "يوسف", "fr": "Youssef"}
UNJUSTIFIED = {"ar": "غير مبرر", "fr": "non justifi"}
Handset = MetaHandset | TelegramHandset | TwilioHandset


def start(handset: Handset, lang: str) -> Screen:
    if isinstance(handset, TelegramHandset):
        menu = handset.share_contact()  # the first thing a Telegram user does
        assert translator("ar").gettext(texts.MAIN_TITLE) in menu.text  # the guardian's language
    return handset.type(lang.upper())  # "AR" / "FR": the language command


def pick(handset: Handset, screen: Screen, option_id: str) -> Screen:
    return handset.tap(screen, option_by_id(handset, screen, option_id))


def option_by_id(handset: Handset, screen: Screen, option_id: str) -> str:
    """Twilio shows numbered lines (the key is all it has); the others carry the id."""
    if not isinstance(handset, TwilioHandset):
        return option_id
    order = {"abs": "1", "notes": "2", "enrol": "3", "menu": "0", "child:1": "1", "sem:1": "1"}
    if option_id in order:
        return order[option_id]
    raise AssertionError(option_id)


HANDSETS: dict[str, Callable[[ChatGateway], Handset]] = {
    "whatsapp-twilio": lambda chat: TwilioHandset(chat, GUARDIAN),
    "whatsapp-meta": lambda chat: MetaHandset(chat, GUARDIAN),
    "telegram": lambda chat: TelegramHandset(chat, GUARDIAN),
}


@pytest.mark.parametrize("lang", ["ar", "fr"])
@pytest.mark.parametrize("channel", sorted(HANDSETS))
def test_guardian_reaches_absences_marks_and_enrolment(
    chat: ChatGateway, channel: str, lang: str
) -> None:
    t = translator(lang)
    handset = HANDSETS[channel](chat)
    menu = start(handset, lang)
    assert menu.text == t.gettext(texts.MAIN_TITLE)
    assert t.gettext(texts.ABSENCES) in [label for _, _, label in menu.options]

    ask_code = pick(handset, menu, "abs")
    assert ask_code.text == t.gettext(texts.ASK_CODE)
    assert handset.type("Z990000001").text == t.gettext(texts.ASK_CHILD_DOB)
    absences = handset.type("14092018")
    assert absences.text.startswith(NAME[lang])
    assert UNJUSTIFIED[lang] in absences.text
    assert "Z990000001" not in absences.text

    menu = pick(handset, absences, "menu")
    which = pick(handset, menu, "notes")  # one child bound, one still to add
    assert which.text == t.gettext(texts.CHOOSE_CHILD)
    semester = pick(handset, which, "child:1")
    marks = pick(handset, semester, "sem:1")
    assert marks.text.startswith(NAME[lang])
    assert t.gettext(texts.SEMESTER_N, n=1).split(" ")[0].lower() in marks.text.lower()

    menu = pick(handset, marks, "menu")
    enrol = pick(handset, menu, "enrol")
    assert enrol.text == t.gettext(texts.ENROLMENT_TITLE)
    application = handset.tap(enrol, "1" if isinstance(handset, TwilioHandset) else "app")
    assert application.text == t.gettext(texts.ASK_APPLICATION)
    handset.type("20260000001")
    status = handset.type("01062020")
    assert status.text.startswith("PRE-2026-0000001")


def printed_by(channel: str, lines: str, tmp_path: Path, redis_url: str | None) -> list[str]:
    printed: list[str] = []

    async def talk() -> None:
        await converse(
            channel,
            GUARDIAN,
            url=None,
            settings=gateway_settings(tmp_path, redis_url),
            lines=io.StringIO(lines),
            out=printed.append,
        )

    anyio.run(talk)
    return printed[1:]  # the first line names the log file


def test_simulator_on_telegram_shares_the_contact_and_taps_buttons(
    tmp_path: Path, redis_url: str | None
) -> None:
    shown = "\n".join(printed_by("telegram", "FR\n1\nZ990000001\n14092018\n", tmp_path, redis_url))
    assert "(contact shared: +212600000001)" in shown
    # The welcome, the offer of alerts in this chat (opt-in), the menu: the guardian's language.
    assert "[Telegram] مرحبا بكم في مسار. لتلقي تنبيهات مسار في هذه المحادثة، أرسل START." in shown
    assert "\nخدمات مسار:" in shown
    assert "[1: Absences]" in shown  # an inline keyboard, drawn
    assert "Youssef : " in shown
    assert "non justifiées" in shown  # French keeps its accents on a chat app


def test_simulator_on_whatsapp_meta_draws_the_list_and_buttons(
    tmp_path: Path, redis_url: str | None
) -> None:
    lines = "مرحبا\n1\nZ990000001\n14092018\n"  # a greeting, then row 1 of the list
    shown = "\n".join(printed_by("whatsapp-meta", lines, tmp_path, redis_url))
    assert "≡ الخيارات" in shown  # five options: a list, under its button
    assert "[1: القائمة]" in shown  # one option: a reply button
    assert "يوسف" in shown
    assert "غير مبرر" in shown


def test_simulator_on_whatsapp_twilio_shows_numbered_options(
    tmp_path: Path, redis_url: str | None
) -> None:
    shown = printed_by("whatsapp", "ABS\n", tmp_path, redis_url)
    fr = translator("ar")  # the guardian's language, whatever the keyword's (issue 22)
    assert shown[0] == "> ABS"
    assert shown[1] == f"{fr.gettext(texts.ASK_CODE)}\n0. {fr.gettext(texts.MENU)}"
