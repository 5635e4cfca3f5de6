"""`/channels/whatsapp/meta`: the subscription check, signatures, the recorded notifications
(`tests/fixtures/whatsapp_meta/`), dedupe on the wamid, statuses, and old buttons."""

from __future__ import annotations

import json

import pytest

from gateway.dialogs import texts
from gateway.dialogs.model import ChannelKind
from gateway.i18n import translator
from gateway.outbox.model import MessageKind, OutChannel
from gateway.simulate.whatsapp_meta import meta_signature
from gateway.state.outbox.priority import Priority
from tests.gateway.chat.handsets import (
    META_SECRET,
    META_VERIFY,
    ChatGateway,
    MetaHandset,
    meta_doc,
    meta_post,
    write_sent,
)

pytestmark = pytest.mark.redis

GUARDIAN = "+212600000001"  # Arabic is this guardian's language
ROUTE = "/channels/whatsapp/meta"


# --- the subscription check -------------------------------------------------------------------


def test_the_subscription_check_echoes_the_challenge(chat: ChatGateway) -> None:
    query = {
        "hub.mode": "subscribe",
        "hub.verify_token": META_VERIFY,
        "hub.challenge": "1158201444",
    }
    response = chat.client.get(ROUTE, params=query)
    assert response.status_code == 200
    assert response.text == "1158201444"


@pytest.mark.parametrize(
    "query",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": META_VERIFY, "hub.challenge": "1"},
        {"hub.mode": "subscribe", "hub.challenge": "1"},
        {},
    ],
    ids=["wrong-token", "wrong-mode", "no-token", "nothing"],
)
def test_a_wrong_subscription_check_is_refused(chat: ChatGateway, query: dict[str, str]) -> None:
    response = chat.client.get(ROUTE, params=query)
    assert response.status_code == 403
    assert "1" not in response.text


# --- signatures -------------------------------------------------------------------------------


def test_a_signed_text_is_answered_through_the_outbox(chat: ChatGateway) -> None:
    response = meta_post(chat.client, meta_doc("text", phone=GUARDIAN, text={"body": "ABS"}))
    assert response.status_code == 200
    assert response.text == ""
    [reply] = chat.queued(GUARDIAN)
    assert (reply.channel, reply.kind, reply.priority) == (
        OutChannel.WHATSAPP,
        MessageKind.REPLY,
        Priority.INTERACTIVE,
    )
    # The guardian's language (Arabic), whatever the keyword's (issue 22).
    assert reply.text == translator("ar").gettext(texts.ASK_CODE)
    assert [o.id for o in reply.options] == ["menu"]


@pytest.mark.parametrize(
    ("headers", "secret"),
    [
        ({}, None),  # missing
        ({"X-Hub-Signature-256": "sha256=" + "0" * 64}, None),  # forged
        ({}, "another-apps-secret"),  # signed with another key
        ({"X-Hub-Signature-256": "sha1=abc"}, None),  # the old SHA-1 header's form
    ],
    ids=["missing", "forged", "other-key", "wrong-scheme"],
)
def test_an_unsigned_or_forged_notification_is_refused(
    chat: ChatGateway, headers: dict[str, str], secret: str | None
) -> None:
    doc = meta_doc("text", phone=GUARDIAN)
    response = meta_post(chat.client, doc, secret=secret, **headers)
    assert response.status_code == 403
    assert chat.queued() == []


def test_a_body_changed_after_signing_is_refused(chat: ChatGateway) -> None:
    body = json.dumps(meta_doc("text", phone=GUARDIAN)).encode()
    signature = meta_signature(body, META_SECRET)
    tampered = body.replace(b'"ABS"', b'"NOTES"')
    assert tampered != body
    response = chat.client.post(
        ROUTE,
        content=tampered,
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature},
    )
    assert response.status_code == 403
    assert chat.queued() == []


def test_a_signed_body_that_is_not_a_notification_is_acknowledged(chat: ChatGateway) -> None:
    body = b"not json"
    headers = {"X-Hub-Signature-256": meta_signature(body, META_SECRET)}
    assert chat.client.post(ROUTE, content=body, headers=headers).status_code == 200
    assert meta_post(chat.client, {"object": "page", "entry": []}).status_code == 200
    assert chat.queued() == []


# --- messages ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "part"),
    [
        ("button_reply", {"type": "button_reply", "button_reply": {"id": "abs", "title": "x"}}),
        ("list_reply", {"type": "list_reply", "list_reply": {"id": "abs", "title": "x"}}),
    ],
)
def test_a_tapped_button_or_row_maps_back_to_its_option(
    chat: ChatGateway, fixture: str, part: dict[str, object]
) -> None:
    phone = MetaHandset(chat, GUARDIAN)
    phone.type("مرحبا")  # the menu
    meta_post(chat.client, meta_doc(fixture, phone=GUARDIAN, interactive=part))
    reply = chat.queued(GUARDIAN)[-1]
    assert reply.text == translator("ar").gettext(texts.ASK_CODE)  # absences: the code first


def test_a_template_quick_reply_carries_its_payload(chat: ChatGateway) -> None:
    MetaHandset(chat, GUARDIAN).type("مرحبا")
    meta_post(chat.client, meta_doc("template_button", phone=GUARDIAN))  # payload "abs"
    assert chat.queued(GUARDIAN)[-1].text == translator("ar").gettext(texts.ASK_CODE)


@pytest.mark.parametrize("fixture", ["image", "voice", "sticker", "location", "reaction"])
def test_what_the_service_cannot_read_gets_a_short_answer_in_the_users_language(
    chat: ChatGateway, fixture: str
) -> None:
    phone = MetaHandset(chat, GUARDIAN)
    phone.type("FR")  # French chosen: the session is French from now on
    response = meta_post(chat.client, meta_doc(fixture, phone=GUARDIAN))
    assert response.status_code == 200
    reply = chat.queued(GUARDIAN)[-1]
    assert reply.text == translator("fr").gettext(texts.UNSUPPORTED_MESSAGE)
    assert reply.options == ()


def test_a_redelivered_message_is_answered_once(chat: ChatGateway) -> None:
    doc = meta_doc("text", phone=GUARDIAN, wamid="wamid.REDELIVERED1", text={"body": "NOTES"})
    for _ in range(3):
        assert meta_post(chat.client, doc).status_code == 200
    assert len(chat.queued(GUARDIAN)) == 1


def test_a_redelivery_after_the_turn_memory_is_gone_is_still_not_run_again(
    chat: ChatGateway,
) -> None:
    doc = meta_doc("text", phone=GUARDIAN, wamid="wamid.REDELIVERED2", text={"body": "1"})
    meta_post(chat.client, doc)
    chat.forget_session(ChannelKind.WHATSAPP, GUARDIAN)  # days later: the session is gone
    meta_post(chat.client, doc)
    assert len(chat.queued(GUARDIAN)) == 1
    assert chat.call(chat.state.sessions.load, ChannelKind.WHATSAPP, GUARDIAN) is None


def test_a_button_from_an_old_menu_shows_the_current_menu(chat: ChatGateway) -> None:
    phone = MetaHandset(chat, GUARDIAN)
    menu = phone.type("مرحبا")
    code = phone.tap(menu, "abs")  # now at the code prompt; the old list is still on screen
    assert code.ids == ["menu"]
    part = {"type": "list_reply", "list_reply": {"id": "sem:2", "title": "x"}}
    meta_post(chat.client, meta_doc("list_reply", phone=GUARDIAN, interactive=part))
    again = chat.queued(GUARDIAN)[-1]
    assert again.text.endswith(translator("ar").gettext(texts.ASK_CODE))  # the current screen


def test_a_button_after_the_session_expired_shows_the_menu(chat: ChatGateway) -> None:
    phone = MetaHandset(chat, GUARDIAN)
    phone.type("مرحبا")
    chat.forget_session(ChannelKind.WHATSAPP, GUARDIAN)
    part = {"type": "button_reply", "button_reply": {"id": "sem:1", "title": "x"}}
    meta_post(chat.client, meta_doc("button_reply", phone=GUARDIAN, interactive=part))
    reply = chat.queued(GUARDIAN)[-1]
    assert translator("ar").gettext(texts.MAIN_TITLE) in reply.text
    assert "abs" in [o.id for o in reply.options]


# --- statuses ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "status", "error"),
    [("status_delivered", "delivered", None), ("status_failed", "failed", "meta:131047")],
)
def test_statuses_move_the_message_record(
    chat: ChatGateway, fixture: str, status: str, error: str | None
) -> None:
    doc = meta_doc(fixture, phone=GUARDIAN)
    wamid = doc["entry"][0]["changes"][0]["value"]["statuses"][0]["id"]
    record_id = write_sent(chat, wamid[:64])
    assert meta_post(chat.client, doc).status_code == 200
    record = chat.call(chat.state.records.get, record_id)
    assert (record["status"], record["error"]) == (status, error)
    assert chat.queued() == []  # a status is not a message


def test_a_wrong_pick_on_buttons_asks_to_choose_not_to_type_a_number(chat: ChatGateway) -> None:
    phone = MetaHandset(chat, GUARDIAN)
    phone.type("FR")  # French chosen
    again = phone.type("7")  # no seventh option
    assert again.text.startswith(translator("fr").gettext(texts.PICK_A_BUTTON))
    assert translator("fr").gettext(texts.PICK_AN_OPTION) not in again.text
