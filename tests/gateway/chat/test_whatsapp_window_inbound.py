"""Every inbound WhatsApp message opens the parent's 24-hour window (issue #26 item 5):
Twilio's and Meta's webhooks write the time under the phone's hash, a text or an attachment
alike; Meta's own `timestamp` counts (a message written two days ago and delivered now opens
nothing); a forged request writes nothing."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from gateway.state.whatsapp import WhatsAppWindow
from tests.gateway.chat.handsets import (
    ChatGateway,
    TwilioHandset,
    meta_doc,
    meta_post,
    twilio_params,
    twilio_post,
)

pytestmark = pytest.mark.redis

GUARDIAN = "+212600000001"


def window(chat: ChatGateway) -> WhatsAppWindow:
    return WhatsAppWindow(chat.state.redis, chat.state.sessions.keys)


def last_inbound(chat: ChatGateway) -> datetime | None:
    found: datetime | None = chat.call(window(chat).last_inbound, GUARDIAN)
    return found


def is_open(chat: ChatGateway) -> bool:
    return bool(chat.call(window(chat).is_open, GUARDIAN, datetime.now(UTC)))


def test_a_twilio_whatsapp_message_opens_the_window(chat: ChatGateway) -> None:
    assert not is_open(chat)
    TwilioHandset(chat, GUARDIAN).type("ABS")
    assert is_open(chat)


def test_a_twilio_attachment_opens_it_too(chat: ChatGateway) -> None:
    response = twilio_post(chat.client, twilio_params("image", phone=GUARDIAN))
    assert response.status_code == 200
    assert is_open(chat)


def test_a_forged_twilio_message_opens_nothing(chat: ChatGateway) -> None:
    params = twilio_params("text", phone=GUARDIAN, Body="ABS")
    response = twilio_post(chat.client, params, **{"X-Twilio-Signature": "Zm9yZ2Vk"})
    assert response.status_code == 403
    assert last_inbound(chat) is None


def test_a_meta_message_opens_the_window_at_its_own_timestamp(chat: ChatGateway) -> None:
    sent = int(time.time()) - 3600
    doc = meta_doc("text", phone=GUARDIAN, text={"body": "ABS"}, timestamp=str(sent))
    assert meta_post(chat.client, doc).status_code == 200
    assert last_inbound(chat) == datetime.fromtimestamp(sent, UTC)
    assert is_open(chat)


def test_a_meta_message_written_two_days_ago_opens_nothing(chat: ChatGateway) -> None:
    sent = int((datetime.now(UTC) - timedelta(days=2)).timestamp())
    doc = meta_doc("text", phone=GUARDIAN, text={"body": "ABS"}, timestamp=str(sent))
    assert meta_post(chat.client, doc).status_code == 200
    assert not is_open(chat)


def test_a_meta_timestamp_in_the_future_counts_as_now(chat: ChatGateway) -> None:
    doc = meta_doc("text", phone=GUARDIAN, text={"body": "ABS"}, timestamp="99999999999")
    before = datetime.now(UTC)
    assert meta_post(chat.client, doc).status_code == 200
    last = last_inbound(chat)
    assert last is not None
    assert before - timedelta(seconds=1) <= last <= datetime.now(UTC)


def test_a_meta_reply_to_a_template_opens_the_window(chat: ChatGateway) -> None:
    doc = meta_doc("template_button", phone=GUARDIAN, timestamp=str(int(time.time())))
    assert meta_post(chat.client, doc).status_code == 200
    assert is_open(chat)
