"""The Telegram sender through PTB's `Bot` over a MockTransport: inline keyboards of ids,
escaped HTML, the contact button, refusals, the per-chat pace, and `telegram set-webhook`."""

from __future__ import annotations

import json

import httpx
import pytest

from gateway.cli.telegram import set_webhook
from gateway.dialogs.model import Option
from gateway.outbox.model import OutChannel, SendError
from gateway.outbox.senders.telegram import REQUEST_CONTACT
from gateway.state.outbox.bucket import TokenBucket
from tests.gateway.conftest import gateway_settings
from tests.outbox.chat_fakes import (
    Recorder,
    chat_message,
    options,
    sent_form,
    telegram_sender,
    tg_ok,
)
from tests.outbox.conftest import Rig

pytestmark = [pytest.mark.anyio, pytest.mark.redis]


async def test_telegram_sends_an_inline_keyboard_of_ids_with_escaped_html(rig: Rig) -> None:
    recorder = Recorder(tg_ok)
    sender, http = telegram_sender(rig, recorder)
    labels = ("الغياب", "Notes <2AP> & co")
    msg = chat_message(
        channel=OutChannel.TELEGRAM,
        to="telegram:42",
        text="Youssef <b> & 1 < 2",
        opts=options(*labels),
    )
    receipt = await sender.send(msg)
    await http.aclose()
    assert receipt.provider_id == "tg:42:77"
    [request] = recorder.requests
    assert str(request.url) == "http://telegram.test/bot123456:TEST-TOKEN/sendMessage"
    form = sent_form(request)
    assert form["chat_id"] == "42"
    assert form["parse_mode"] == "HTML"
    assert form["text"] == "Youssef &lt;b&gt; &amp; 1 &lt; 2"
    keyboard = json.loads(form["reply_markup"])["inline_keyboard"]
    assert keyboard == [
        [{"text": "الغياب", "callback_data": "opt:1"}],
        [{"text": "Notes <2AP> & co", "callback_data": "opt:2"}],
    ]
    assert all(len(row[0]["callback_data"].encode()) <= 64 for row in keyboard)


async def test_telegram_asks_for_the_contact_with_a_one_time_button(rig: Rig) -> None:
    recorder = Recorder(tg_ok)
    sender, http = telegram_sender(rig, recorder)
    share = (Option(key="", id=REQUEST_CONTACT, label="Partager mon numéro"),)
    await sender.send(chat_message(channel=OutChannel.TELEGRAM, to="telegram:42", opts=share))
    await http.aclose()
    markup = json.loads(sent_form(recorder.requests[0])["reply_markup"])
    assert markup["keyboard"] == [[{"text": "Partager mon numéro", "request_contact": True}]]
    assert markup["one_time_keyboard"] is True


@pytest.mark.parametrize(
    ("status", "body", "code", "retryable", "wait"),
    [
        (
            403,
            {
                "ok": False,
                "error_code": 403,
                "description": "Forbidden: bot was blocked by the user",
            },
            "telegram:forbidden",
            False,
            None,
        ),
        (
            400,
            {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"},
            "telegram:bad_request",
            False,
            None,
        ),
        (
            429,
            {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 5",
                "parameters": {"retry_after": 5},
            },
            "telegram:429",
            True,
            5.0,
        ),
        (
            502,
            {"ok": False, "error_code": 502, "description": "Bad Gateway"},
            "telegram:network",
            True,
            None,
        ),
    ],
    ids=["blocked", "chat-not-found", "flood", "bad-gateway"],
)
async def test_telegram_errors_are_classified(
    rig: Rig, status: int, body: dict[str, object], code: str, retryable: bool, wait: float | None
) -> None:
    sender, http = telegram_sender(rig, lambda request: httpx.Response(status, json=body))
    with pytest.raises(SendError) as raised:
        await sender.send(chat_message(channel=OutChannel.TELEGRAM, to="telegram:42"))
    await http.aclose()
    assert (raised.value.code, raised.value.retryable, raised.value.retry_after_s) == (
        code,
        retryable,
        wait,
    )
    # Only a bot the user blocked stops the phone's alerts (issue 15).
    assert raised.value.opted_out is (code == "telegram:forbidden")


async def test_telegram_refuses_an_address_that_is_not_a_chat(rig: Rig) -> None:
    sender, http = telegram_sender(rig, tg_ok)
    with pytest.raises(SendError) as raised:
        await sender.send(chat_message(channel=OutChannel.TELEGRAM, to="+212600000001"))
    await http.aclose()
    assert (raised.value.code, raised.value.retryable) == ("telegram:bad_address", False)


async def test_each_chat_has_its_own_pace_shared_through_redis(rig: Rig) -> None:
    sender, http = telegram_sender(rig, tg_ok)
    await sender.send(chat_message(channel=OutChannel.TELEGRAM, to="telegram:42"))
    await http.aclose()
    digest = rig.outbox.digest("42", label="telegram-chat\0")
    same_chat = TokenBucket(
        rig.redis, rig.outbox.keys.bucket(f"telegram-chat:{digest}"), rate=1.0, burst=1
    )
    taken, wait_ms = await same_chat.take()
    assert (taken, wait_ms > 0) == (0, True)  # the send took this chat's token
    other = rig.outbox.digest("43", label="telegram-chat\0")
    other_chat = TokenBucket(
        rig.redis, rig.outbox.keys.bucket(f"telegram-chat:{other}"), rate=1.0, burst=1
    )
    assert (await other_chat.take())[0] == 1  # another chat is not slowed down


async def test_set_webhook_registers_the_route_with_the_secret(tmp_path: object) -> None:
    recorder = Recorder(lambda request: httpx.Response(200, json={"ok": True, "result": True}))
    settings = gateway_settings(
        tmp_path,  # type: ignore[arg-type]
        None,
        telegram_bot_token="123456:TEST-TOKEN",
        telegram_webhook_secret="a-webhook-secret",
        telegram_api_url="http://telegram.test/bot",
    )
    url = await set_webhook(settings, transport=httpx.MockTransport(recorder))
    assert url == "https://gw.test/channels/telegram/webhook"
    [request] = recorder.requests
    assert request.url.path == "/bot123456:TEST-TOKEN/setWebhook"
    form = sent_form(request)
    assert form["url"] == url
    assert form["secret_token"] == "a-webhook-secret"
    assert json.loads(form["allowed_updates"]) == ["message", "edited_message", "callback_query"]
