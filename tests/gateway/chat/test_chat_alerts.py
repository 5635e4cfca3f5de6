"""Alerts go where START was sent (issue 15, "a guardian who bound a child on WhatsApp or
Telegram may choose that channel"): START in a Telegram chat sends them to that chat, on
WhatsApp to WhatsApp, and START by SMS brings them back to SMS. STOP anywhere stops them."""

from __future__ import annotations

import pytest

from gateway.alerts.plan import route
from gateway.dialogs import texts
from gateway.i18n import translator
from gateway.outbox.model import OutChannel
from tests.gateway.chat.handsets import ChatGateway, MetaHandset, TelegramHandset
from tests.gateway.conftest import SmsPhone

pytestmark = pytest.mark.redis

GUARDIAN = "+212600000001"


def where_alerts_go(chat: ChatGateway) -> tuple[OutChannel, str] | None:
    pref = chat.call(chat.state.preferences.for_phones, [GUARDIAN])[GUARDIAN]
    if pref.opted_out:
        return None
    return route(GUARDIAN, pref)


def test_start_in_a_telegram_chat_sends_alerts_to_that_chat_and_by_sms_back(
    chat: ChatGateway,
) -> None:
    handset = TelegramHandset(chat, GUARDIAN)
    handset.share_contact()
    confirmed = handset.type("START")
    # How to stop them, and how to get them by SMS again, in the guardian's Arabic.
    assert confirmed.text == translator("ar").gettext(texts.ALERTS_HERE)
    assert "STOP" in confirmed.text
    assert where_alerts_go(chat) == (OutChannel.TELEGRAM, handset.address)

    SmsPhone(chat.client, GUARDIAN).send("START")
    assert where_alerts_go(chat) == (OutChannel.SMS, GUARDIAN)


def test_start_on_whatsapp_sends_alerts_there_and_stop_anywhere_stops_them(
    chat: ChatGateway,
) -> None:
    handset = MetaHandset(chat, GUARDIAN)
    handset.type("ابدأ")
    assert where_alerts_go(chat) == (OutChannel.WHATSAPP, GUARDIAN)
    handset.type("STOP")
    assert where_alerts_go(chat) is None
