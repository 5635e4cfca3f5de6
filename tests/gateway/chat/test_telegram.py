"""`/channels/telegram/webhook`: the secret token, the contact check, the recorded updates
(`tests/fixtures/telegram/`), dedupe on `update_id`, callback queries, and the phone as the
identity exactly as on SMS."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa

from gateway.dialogs import texts
from gateway.dialogs.model import ChannelKind
from gateway.i18n import translator
from gateway.outbox.model import OutChannel
from gateway.outbox.senders.telegram import REQUEST_CONTACT, chat_address
from gateway.state.schema import telegram_link
from gateway.state.telegram_links import TelegramLinks
from tests.gateway.chat.handsets import (
    ChatGateway,
    TelegramHandset,
    telegram_doc,
    telegram_post,
)

pytestmark = pytest.mark.redis

GUARDIAN = "+212600000001"
CHAT = 704211330  # the recorded chat (its user has the same id)
ar, fr = translator("ar"), translator("fr")


def test_the_first_message_asks_for_the_contact_in_the_apps_language(chat: ChatGateway) -> None:
    response = telegram_post(chat.client, telegram_doc("start", chat_id=CHAT))
    assert response.status_code == 200
    [ask] = chat.queued(chat_address(CHAT))
    assert ask.channel is OutChannel.TELEGRAM
    assert ask.text == fr.gettext(texts.SHARE_CONTACT)  # language_code "fr"
    [button] = ask.options
    assert (button.id, button.label) == (REQUEST_CONTACT, fr.gettext(texts.SHARE_CONTACT_BUTTON))


@pytest.mark.parametrize(
    "secret", [None, "", "wrong-secret", "test-telegram-webhook-secre"], ids=repr
)
def test_a_wrong_or_missing_secret_token_is_refused(chat: ChatGateway, secret: str | None) -> None:
    response = telegram_post(chat.client, telegram_doc("text", chat_id=CHAT), secret=secret)
    assert response.status_code == 403
    assert chat.queued() == []


def test_a_refused_request_is_not_even_parsed(chat: ChatGateway) -> None:
    response = chat.client.post(
        "/channels/telegram/webhook", content=b"{not json", headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 403


def test_own_contact_links_the_phone_and_opens_the_menu(chat: ChatGateway) -> None:
    phone = TelegramHandset(chat, GUARDIAN)
    menu = phone.share_contact()
    # The welcome, the offer of alerts here (chat apps are opt-in), the menu: in Arabic.
    welcome = f"{ar.gettext(texts.WELCOME)} {ar.gettext(texts.ALERTS_OFFER_CHAT)}"
    assert menu.text == f"{welcome}\n{ar.gettext(texts.MAIN_TITLE)}"
    assert menu.ids[:4] == ["abs", "notes", "enrol", "help"]
    assert chat.call(chat.state.telegram_links.phone, phone.chat_id) == GUARDIAN
    # The phone is the identity, as on SMS: its session is the phone's.
    assert chat.call(chat.state.sessions.load, ChannelKind.TELEGRAM, GUARDIAN) is not None


@pytest.mark.parametrize("fixture", ["contact_forwarded", "contact_without_user"])
def test_someone_elses_contact_is_refused_politely(chat: ChatGateway, fixture: str) -> None:
    response = telegram_post(chat.client, telegram_doc(fixture, chat_id=CHAT))
    assert response.status_code == 200
    [refusal] = chat.queued(chat_address(CHAT))
    assert refusal.text == fr.gettext(texts.OWN_CONTACT_ONLY)
    assert [o.id for o in refusal.options] == [REQUEST_CONTACT]
    assert chat.call(chat.state.telegram_links.phone, CHAT) is None


def test_the_link_survives_a_restart_and_holds_no_phone_in_clear(
    make_chat_gateway: Callable[..., ChatGateway],
) -> None:
    first = make_chat_gateway(identity_key="a-fixed-identity-key-for-this-test")
    phone = TelegramHandset(first, GUARDIAN)
    phone.share_contact()
    engine = first.state.db
    with engine.connect() as conn:
        rows = conn.execute(sa.select(telegram_link)).mappings().all()
    assert len(rows) == 1
    stored = " ".join(str(v) for v in rows[0].values())
    assert "600000001" not in stored
    assert str(phone.chat_id) not in stored

    again = make_chat_gateway(identity_key="a-fixed-identity-key-for-this-test")
    assert again.call(again.state.telegram_links.phone, phone.chat_id) == GUARDIAN
    other_key = TelegramLinks(engine, key_secret=b"another key")
    assert again.call(other_key.phone, phone.chat_id) is None


def test_a_callback_query_is_answered_in_the_webhooks_answer(chat: ChatGateway) -> None:
    phone = TelegramHandset(chat, GUARDIAN)
    menu = phone.share_contact()
    doc = telegram_doc("callback_query", chat_id=phone.chat_id, data="abs")
    response = telegram_post(chat.client, doc)
    assert response.json() == {
        "method": "answerCallbackQuery",
        "callback_query_id": doc["callback_query"]["id"],
    }
    assert "abs" in menu.ids
    assert phone.reply().text == ar.gettext(texts.ASK_CODE)


def test_a_redelivered_update_is_answered_once(chat: ChatGateway) -> None:
    phone = TelegramHandset(chat, GUARDIAN)
    phone.share_contact()
    doc = telegram_doc("text", chat_id=phone.chat_id, text="NOTES")
    for _ in range(3):
        assert telegram_post(chat.client, doc).status_code == 200
    assert len(chat.queued(phone.address)) == 2  # the menu after the contact, one answer


def test_a_button_for_an_expired_session_shows_the_menu(chat: ChatGateway) -> None:
    phone = TelegramHandset(chat, GUARDIAN)
    phone.share_contact()
    chat.forget_session(ChannelKind.TELEGRAM, GUARDIAN)
    telegram_post(
        chat.client, telegram_doc("callback_query", chat_id=phone.chat_id, data="child:7")
    )
    menu = phone.reply()
    assert menu.text.endswith(ar.gettext(texts.MAIN_TITLE))
    assert "abs" in menu.ids


def test_a_linked_chat_still_needs_the_child_bound(chat: ChatGateway) -> None:
    """The binding check of DOMAIN §3: the phone's children are named only once bound."""
    phone = TelegramHandset(chat, GUARDIAN)
    menu = phone.share_contact()
    asked = phone.tap(menu, "abs")
    assert asked.text == ar.gettext(texts.ASK_CODE)
    assert "يوسف" not in asked.text


@pytest.mark.parametrize("fixture", ["sticker", "voice", "location", "photo", "edited_message"])
def test_what_the_service_cannot_read_gets_a_short_answer(chat: ChatGateway, fixture: str) -> None:
    response = telegram_post(chat.client, telegram_doc(fixture, chat_id=CHAT))
    assert response.status_code == 200
    [reply] = chat.queued(chat_address(CHAT))
    assert reply.text == fr.gettext(texts.UNSUPPORTED_MESSAGE)  # language_code "fr"


def test_a_linked_user_is_answered_in_the_sessions_language(chat: ChatGateway) -> None:
    phone = TelegramHandset(chat, GUARDIAN)
    phone.share_contact()  # Arabic, although the app says "fr"
    telegram_post(chat.client, telegram_doc("sticker", chat_id=phone.chat_id))
    assert phone.reply().text == ar.gettext(texts.UNSUPPORTED_MESSAGE)


def test_group_messages_are_acknowledged_and_not_answered(chat: ChatGateway) -> None:
    response = telegram_post(chat.client, telegram_doc("group_message", chat_id=CHAT))
    assert response.status_code == 200
    assert chat.queued() == []


def test_an_update_that_is_not_one_is_acknowledged(chat: ChatGateway) -> None:
    assert telegram_post(chat.client, {"update_id": "x", "message": 3}).status_code == 200  # type: ignore[dict-item]
    assert telegram_post(chat.client, {"update_id": 5}).status_code == 200
    assert chat.queued() == []
