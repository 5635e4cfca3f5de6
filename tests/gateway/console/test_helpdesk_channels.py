""" "Talk to a person" on the text channels, and a helpdesk that answers on the parent's channel:
SMS, WhatsApp and Telegram questions land in the queue with their channel and the address to
answer on; the agent's answer and the expiry notice leave through the outbox there, in the
parent's language. USSD and voice menus do not offer the option."""

from __future__ import annotations

import random
import time
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from gateway.dialogs import texts
from gateway.dialogs.pages import gsm_fold
from gateway.i18n import translator
from gateway.outbox.model import OutChannel, OutMessage
from gateway.state.helpdesk import EXPIRED_TEXT, Item
from tests.gateway.channels.voice_call import VoiceCall
from tests.gateway.chat.handsets import (
    META_SECRET,
    META_VERIFY,
    TELEGRAM_SECRET,
    ChatGateway,
    TelegramHandset,
    TwilioHandset,
)
from tests.gateway.conftest import SmsPhone, UssdPhone
from tests.gateway.console.conftest import add_operators, csrf_of, sign_in

GUARDIAN = "+212600000001"
NAIMA = "+212600000002"
HOTLINE = "0800 00 11 22"


def fr(msgid: str) -> str:
    return translator("fr").gettext(msgid)


def ar(msgid: str) -> str:
    return translator("ar").gettext(msgid)


def latin_words() -> str:
    return " ".join("".join(random.choices("bcdfgjkpqvxz", k=8)) for _ in range(2))


def arabic_words() -> str:
    return " ".join("".join(random.choices("ثخذضظغ", k=7)) for _ in range(2))


@pytest.fixture
def desk(make_gateway: Callable[..., TestClient]) -> ChatGateway:
    """Every text channel on, no sender (answers wait in the outbox), an agent signed in."""
    client = make_gateway(
        meta_app_secret=META_SECRET,
        meta_verify_token=META_VERIFY,
        telegram_webhook_secret=TELEGRAM_SECRET,
        embedded_sender=False,
    )
    add_operators(client)
    assert sign_in(client, "amina").status_code == 303
    return ChatGateway(client)


def open_item(desk: ChatGateway, phone: str, word: str) -> Item | None:
    items: list[Item] = desk.call(desk.state.helpdesk.open_items)
    mine = [i for i in items if i.phone == phone and any(word in m["text"] for m in i.messages)]
    return mine[0] if mine else None


def answer_from_console(desk: ChatGateway, item: Item, text: str) -> None:
    agent = desk.client
    page = agent.get(f"/console/helpdesk/{item.id}")
    assert page.status_code == 200
    agent.post(f"/console/helpdesk/{item.id}/take", data={"csrf": csrf_of(page.text)})
    answered = agent.post(
        f"/console/helpdesk/{item.id}/answer", data={"csrf": csrf_of(page.text), "text": text}
    )
    assert answered.status_code == 200


def sent_to(desk: ChatGateway, address: str, text: str) -> list[OutMessage]:
    return [m for m in desk.queued(address) if m.text == text]


def test_talk_to_a_person_on_sms_reaches_the_queue_and_the_answer_leaves_by_sms(
    desk: ChatGateway,
) -> None:
    sms = SmsPhone(desk.client, GUARDIAN)
    menu = sms.send("FR")  # French chosen (Massar says Arabic for this guardian)
    label = gsm_fold(fr(texts.TALK_TO_PERSON))
    assert f"6. {label}" in menu
    assert gsm_fold(fr(texts.ASK_AGENT)) in sms.send("6")
    question = f"Bonjour, ma fille {latin_words()} change de classe ?"
    assert gsm_fold(fr(texts.AGENT_WILL_ANSWER)) in sms.send(question)
    item = open_item(desk, GUARDIAN, question)
    assert item is not None
    assert (item.channel, item.to, item.lang) == ("sms", GUARDIAN, "fr")
    page = desk.client.get("/console/helpdesk").text
    assert '<td class="channel" data-channel="sms">SMS</td>' in page
    answer_from_console(desk, item, "Oui, la directrice vous appellera demain.")
    (sent,) = sent_to(desk, GUARDIAN, "Oui, la directrice vous appellera demain.")
    assert sent.channel is OutChannel.SMS
    assert open_item(desk, GUARDIAN, question) is None


def test_talk_to_a_person_on_telegram_is_answered_in_the_chat(desk: ChatGateway) -> None:
    phone = TelegramHandset(desk, GUARDIAN)
    menu = phone.share_contact()
    assert "agent" in menu.ids
    prompt = phone.tap(menu, "agent")
    assert prompt.text == ar(texts.ASK_AGENT)  # the guardian's language
    question = f"Ou est le bulletin {latin_words()} ?"
    ack = phone.type(question)
    # Written in French in an Arabic session: the session's language stands (issue 22).
    assert ack.text == ar(texts.AGENT_WILL_ANSWER)
    item = open_item(desk, GUARDIAN, question)
    assert item is not None
    assert (item.channel, item.to, item.lang) == ("telegram", phone.address, "ar")
    queue_page = desk.client.get("/console/helpdesk").text
    assert '<td class="channel" data-channel="telegram">Telegram</td>' in queue_page
    assert (
        'data-channel="telegram">Telegram</span>'
        in desk.client.get(f"/console/helpdesk/{item.id}").text
    )
    answer_from_console(desk, item, "Le bulletin est sur Massar depuis lundi.")
    (sent,) = sent_to(desk, phone.address, "Le bulletin est sur Massar depuis lundi.")
    assert sent.channel is OutChannel.TELEGRAM
    assert not sent_to(desk, GUARDIAN, "Le bulletin est sur Massar depuis lundi.")


def test_a_question_after_talk_to_a_person_is_not_read_as_a_command(desk: ChatGateway) -> None:
    sms = SmsPhone(desk.client, GUARDIAN)
    sms.send("FR")
    sms.send("6")
    question = f"absences de Youssef {latin_words()} ?"
    reply = sms.send(question)
    assert gsm_fold(fr(texts.AGENT_WILL_ANSWER)) in reply
    assert "Code Massar" not in reply
    assert open_item(desk, GUARDIAN, question) is not None


def test_an_unclear_whatsapp_message_expires_with_an_arabic_notice_on_whatsapp(
    desk: ChatGateway,
) -> None:
    phone = TwilioHandset(desk, NAIMA)
    phone.type("AR")  # Naima chose Arabic (Massar says French)
    words = arabic_words()
    phone.type(words)
    item = open_item(desk, NAIMA, words)
    assert item is not None
    assert (item.channel, item.to, item.lang) == ("whatsapp", NAIMA, "ar")
    queue = desk.state.helpdesk
    desk.call(queue.expire, time.time() + queue.expiry_s + 1)
    assert open_item(desk, NAIMA, words) is None
    notice = translator("ar").gettext(EXPIRED_TEXT, hotline=HOTLINE)
    (sent,) = sent_to(desk, NAIMA, notice)
    assert sent.channel is OutChannel.WHATSAPP


def test_ussd_and_voice_main_menus_do_not_offer_a_person(desk: ChatGateway) -> None:
    labels = (
        fr(texts.TALK_TO_PERSON),
        gsm_fold(fr(texts.TALK_TO_PERSON)),
        ar(texts.TALK_TO_PERSON),
    )
    ussd = UssdPhone(desk.client, GUARDIAN)
    screens = [ussd.dial()]
    screens.append(ussd.press("5"))  # the other language
    for screen in screens:
        assert "1. " in screen
        assert not any(label in screen for label in labels), screen
    for key in ("1", "2"):  # the menu in Arabic, then in French
        call = VoiceCall(desk.client, GUARDIAN)
        call.start()
        menu = call.press(key).text()
        assert menu
        assert not any(label in menu for label in labels), menu
