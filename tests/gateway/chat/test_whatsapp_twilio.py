"""`/channels/whatsapp/twilio` (+ `/status`): Twilio's signature as on SMS, `whatsapp:`
addresses, numbered options in TwiML, quick-reply payloads, attachments, duplicates and
status callbacks, from the recorded forms in `tests/fixtures/whatsapp_twilio/`."""

from __future__ import annotations

import pytest

from gateway.dialogs import texts
from gateway.i18n import translator
from tests.gateway.chat.handsets import (
    ChatGateway,
    TwilioHandset,
    load,
    parse_twiml_screen,
    twilio_params,
    twilio_post,
    write_sent,
)
from tests.gateway.conftest import PUBLIC_URL, sign_twilio

pytestmark = pytest.mark.redis

GUARDIAN = "+212600000001"
ar, fr = translator("ar"), translator("fr")


def test_a_signed_whatsapp_message_is_answered_in_twiml(chat: ChatGateway) -> None:
    screen = TwilioHandset(chat, GUARDIAN).type("ABS")
    assert screen.text == ar.gettext(texts.ASK_CODE)  # the guardian's Arabic (issue 22)
    assert screen.options == (("0", "0", ar.gettext(texts.MENU)),)
    assert chat.queued() == []  # the answer is in the TwiML, not in the outbox


@pytest.mark.parametrize(
    "headers",
    [{"X-Twilio-Signature": ""}, {"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"}],
    ids=["missing", "forged"],
)
def test_an_unsigned_or_forged_message_is_refused(
    chat: ChatGateway, headers: dict[str, str]
) -> None:
    params = twilio_params("text", phone=GUARDIAN)
    assert twilio_post(chat.client, params, **headers).status_code == 403


def test_a_form_changed_after_signing_is_refused(chat: ChatGateway) -> None:
    params = twilio_params("text", phone=GUARDIAN)
    signature = sign_twilio(PUBLIC_URL + "/channels/whatsapp/twilio", params)
    tampered = {**params, "Body": "NOTES"}
    response = twilio_post(chat.client, tampered, **{"X-Twilio-Signature": signature})
    assert response.status_code == 403


def test_an_sms_address_is_not_a_whatsapp_one(chat: ChatGateway) -> None:
    params = {**twilio_params("text", phone=GUARDIAN), "From": GUARDIAN}
    assert twilio_post(chat.client, params).status_code == 400


def test_a_quick_reply_button_carries_the_options_id(chat: ChatGateway) -> None:
    phone = TwilioHandset(chat, GUARDIAN)
    phone.type("مرحبا")
    answer = phone.send(twilio_params("button_reply", phone=GUARDIAN))  # ButtonPayload "abs"
    assert answer.text == ar.gettext(texts.ASK_CODE)


@pytest.mark.parametrize("fixture", ["image", "voice", "location"])
def test_an_attachment_gets_a_short_answer_in_the_users_language(
    chat: ChatGateway, fixture: str
) -> None:
    phone = TwilioHandset(chat, GUARDIAN)
    phone.type("FR")  # a French session
    answer = phone.send(twilio_params(fixture, phone=GUARDIAN))
    assert answer.text == fr.gettext(texts.UNSUPPORTED_MESSAGE)


def test_a_repeated_message_gets_the_first_answer_again(chat: ChatGateway) -> None:
    params = twilio_params("text", phone=GUARDIAN, Body="1")
    first = twilio_post(chat.client, params)
    second = twilio_post(chat.client, params)
    assert first.text == second.text
    # The repeat changed nothing: "1" once moved to the main menu, not further.
    assert parse_twiml_screen(first.text).options[0][2] == ar.gettext(texts.ABSENCES)


@pytest.mark.parametrize(
    ("fixture", "status", "error"),
    [("status_read", "read", None), ("status_undelivered_63016", "failed", "twilio:63016")],
)
def test_status_callbacks_move_the_message_record(
    chat: ChatGateway, fixture: str, status: str, error: str | None
) -> None:
    params = {k: str(v) for k, v in load("whatsapp_twilio", fixture).items()}
    record_id = write_sent(chat, params["MessageSid"])
    url = PUBLIC_URL + "/channels/whatsapp/twilio/status"
    response = chat.client.post(
        "/channels/whatsapp/twilio/status",
        data=params,
        headers={"X-Twilio-Signature": sign_twilio(url, params)},
    )
    assert response.status_code == 204
    record = chat.call(chat.state.records.get, record_id)
    assert (record["status"], record["error"]) == (status, error)


def test_an_unsigned_status_callback_is_refused(chat: ChatGateway) -> None:
    params = {k: str(v) for k, v in load("whatsapp_twilio", "status_read").items()}
    response = chat.client.post("/channels/whatsapp/twilio/status", data=params)
    assert response.status_code == 403


def test_a_wrong_pick_on_numbered_options_asks_for_a_number(chat: ChatGateway) -> None:
    phone = TwilioHandset(chat, GUARDIAN)
    phone.type("FR")  # French chosen
    assert phone.type("7").text.startswith(fr.gettext(texts.PICK_AN_OPTION))
