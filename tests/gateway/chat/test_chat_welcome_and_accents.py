"""Chat apps (issue 22): Telegram's /start welcomes and offers alerts in the chat without
turning them on (opt-in, DOMAIN.md §6); confirmations keep their accents."""

from __future__ import annotations

import pytest

from gateway.alerts.plan import route
from gateway.dialogs import texts
from gateway.i18n import translator
from gateway.outbox.model import OutChannel
from tests.gateway.chat.handsets import ChatGateway, MetaHandset, TelegramHandset

pytestmark = pytest.mark.redis

GUARDIAN = "+212600000001"  # Massar: Arabic
FR_GUARDIAN = "+212700000001"  # Massar: French


def alerts_route(chat: ChatGateway, phone: str) -> tuple[OutChannel, str]:
    pref = chat.call(chat.state.preferences.for_phones, [phone])[phone]
    return route(phone, pref)


def test_telegram_start_welcomes_shows_the_menu_and_asks_before_sending_alerts_here(
    chat: ChatGateway,
) -> None:
    handset = TelegramHandset(chat, FR_GUARDIAN)
    handset.share_contact()
    before = alerts_route(chat, FR_GUARDIAN)
    screen = handset.type("/start")
    fr = translator("fr")
    welcome = f"{fr.gettext(texts.WELCOME)} {fr.gettext(texts.ALERTS_OFFER_CHAT)}"
    assert screen.text == f"{welcome}\n{fr.gettext(texts.MAIN_TITLE)}"
    assert screen.ids[:2] == ["abs", "notes"]
    assert alerts_route(chat, FR_GUARDIAN) == before  # nothing turned on by /start
    assert before[0] is OutChannel.SMS
    confirmed = handset.type("START")  # the parent says yes
    assert confirmed.text == fr.gettext(texts.ALERTS_HERE)
    assert alerts_route(chat, FR_GUARDIAN) == (OutChannel.TELEGRAM, handset.address)


def test_stop_and_start_keep_their_accents_on_a_chat_app(chat: ChatGateway) -> None:
    phone = MetaHandset(chat, FR_GUARDIAN)
    stopped = phone.type("STOP")
    assert "numéro" in stopped.text
    started = phone.type("START")
    assert "arrêter" in started.text  # ê is no GSM-7 letter, but WhatsApp shows it
