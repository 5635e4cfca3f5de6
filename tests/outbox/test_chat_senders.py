"""The chat apps' senders against local fakes (httpx `MockTransport`), never the network:
Meta's Graph API bodies and errors, Telegram's `sendMessage` through PTB's `Bot`, Twilio
WhatsApp with `whatsapp:` addresses and `ContentSid` templates, per-chat pacing, and the
worker recording a "24-hour window" or "blocked" failure once, never retried."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import parse_qs

import httpx
import pytest

from gateway.dialogs.model import Option
from gateway.outbox.model import MessageKind, OutChannel, OutMessage, SendError
from gateway.outbox.senders.meta import MetaSender, payload
from gateway.outbox.senders.telegram import REQUEST_CONTACT, TelegramSender
from gateway.outbox.senders.twilio_whatsapp import TwilioWhatsAppSender
from gateway.outbox.throttle import Pacer, TokenBucket
from gateway.telegram_cli import set_webhook
from tests.gateway.conftest import gateway_settings
from tests.outbox.conftest import Rig
from tests.outbox.test_outbox_worker import until

pytestmark = [pytest.mark.anyio, pytest.mark.redis]

Handler = Callable[[httpx.Request], httpx.Response]
WAMID = "wamid.HBgMMjEyNjAwMDAwMDAxFQIAERgSQTAwMDAwMDAwMDAwMDAwMDAwAA=="


def options(*labels: str) -> tuple[Option, ...]:
    return tuple(
        Option(key=str(n), id=f"opt:{n}", label=label) for n, label in enumerate(labels, 1)
    )


def chat_message(
    *,
    channel: OutChannel = OutChannel.WHATSAPP,
    to: str = "+212600000001",
    text: str = "Services Massar :",
    opts: tuple[Option, ...] = (),
    kind: MessageKind = MessageKind.REPLY,
) -> OutMessage:
    return OutMessage(
        id=uuid.uuid4().hex,
        key=f"test:{uuid.uuid4().hex}",
        channel=channel,
        to=to,
        text=text,
        options=opts,
        kind=kind,
        created_at=datetime.now(UTC),
    )


class Recorder:
    def __init__(self, answer: Callable[[httpx.Request], httpx.Response]) -> None:
        self.requests: list[httpx.Request] = []
        self.answer = answer

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.answer(request)


# --- Meta: what each number of options becomes ------------------------------------------------


def test_up_to_three_options_are_reply_buttons_cut_at_a_word() -> None:
    body = payload(chat_message(opts=options("Absences", "Pré-inscription de mon enfant", "Menu")))
    assert body["type"] == "interactive"
    inter = body["interactive"]
    assert inter["type"] == "button"
    titles = [b["reply"]["title"] for b in inter["action"]["buttons"]]
    assert titles == ["Absences", "Pré-inscription de..", "Menu"]
    assert all(len(t) <= 20 for t in titles)
    assert [b["reply"]["id"] for b in inter["action"]["buttons"]] == ["opt:1", "opt:2", "opt:3"]
    assert body["to"] == "212600000001"  # Meta's form: digits, no "+"


def test_four_to_ten_options_are_a_list_whose_cut_rows_keep_the_label_in_the_description() -> None:
    labels = ("Absences", "Notes", "Inscription", "Aide", "Youssef Benali El Idrissi (2AP)")
    body = payload(chat_message(text="Services Massar :", opts=options(*labels)))
    inter = body["interactive"]
    assert inter["type"] == "list"
    assert inter["action"]["button"] == "Options"  # the text is French: French catalog
    [section] = inter["action"]["sections"]
    rows = section["rows"]
    assert [r["id"] for r in rows] == [f"opt:{n}" for n in range(1, 6)]
    assert all(len(r["title"]) <= 24 for r in rows)
    assert rows[4]["title"] == "Youssef Benali El.."
    assert rows[4]["description"] == labels[4]
    assert "description" not in rows[0]


def test_an_arabic_list_has_an_arabic_button() -> None:
    body = payload(chat_message(text="خدمات مسار:", opts=options("أ", "ب", "ج", "د")))
    assert body["interactive"]["action"]["button"] == "الخيارات"


def test_more_than_ten_options_are_numbered_text() -> None:
    labels = [f"Enfant {n}" for n in range(1, 12)]
    body = payload(chat_message(text="Quel enfant ?", opts=options(*labels)))
    assert body["type"] == "text"
    assert body["text"]["body"].splitlines()[0] == "Quel enfant ?"
    assert body["text"]["body"].splitlines()[-1] == "11. Enfant 11"


def test_a_plain_text_has_no_options_and_no_preview() -> None:
    assert payload(chat_message(text="Bonjour")) == {
        "messaging_product": "whatsapp",
        "to": "212600000001",
        "type": "text",
        "text": {"body": "Bonjour", "preview_url": False},
    }


# --- Meta: the call and its answers -----------------------------------------------------------


def meta_sender(handler: Handler) -> tuple[MetaSender, httpx.AsyncClient]:
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    sender = MetaSender(
        access_token="test-meta-token",
        phone_number_id="106540352242922",
        graph_url="http://graph.test/v21.0",
        http=http,
    )
    return sender, http


async def test_meta_sender_posts_the_body_with_the_token_and_returns_the_wamid() -> None:
    ok = {
        "messaging_product": "whatsapp",
        "contacts": [{"input": "212600000001", "wa_id": "212600000001"}],
        "messages": [{"id": WAMID}],
    }
    recorder = Recorder(lambda request: httpx.Response(200, json=ok))
    sender, http = meta_sender(recorder)
    msg = chat_message(opts=options("Absences"))
    receipt = await sender.send(msg)
    await http.aclose()
    assert receipt.provider_id == WAMID[:64]
    [request] = recorder.requests
    assert str(request.url) == "http://graph.test/v21.0/106540352242922/messages"
    assert request.headers["authorization"] == "Bearer test-meta-token"
    assert json.loads(request.content) == payload(msg)


@pytest.mark.parametrize(
    ("status", "body", "headers", "code", "retryable", "wait"),
    [
        (
            400,
            {"error": {"code": 131047, "message": "Re-engagement message"}},
            {},
            "meta:131047",
            False,
            None,
        ),
        (
            400,
            {"error": {"code": 131026, "message": "Message undeliverable"}},
            {},
            "meta:131026",
            False,
            None,
        ),
        (
            401,
            {"error": {"code": 190, "message": "Invalid OAuth access token"}},
            {},
            "meta:190",
            False,
            None,
        ),
        (
            400,
            {"error": {"code": 131056, "message": "Pair rate limit hit"}},
            {},
            "meta:131056",
            True,
            None,
        ),
        (
            429,
            {"error": {"code": 130429, "message": "Rate limit hit"}},
            {"Retry-After": "7"},
            "meta:130429",
            True,
            7.0,
        ),
        (503, {}, {}, "http:503", True, None),
        (500, "not json", {}, "http:500", True, None),
    ],
    ids=[
        "24h-window",
        "undeliverable",
        "token",
        "pair-rate",
        "throughput",
        "unavailable",
        "html-500",
    ],
)
async def test_meta_errors_are_classified(
    status: int,
    body: object,
    headers: dict[str, str],
    code: str,
    retryable: bool,
    wait: float | None,
) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if isinstance(body, str):
            return httpx.Response(status, text=body, headers=headers)
        return httpx.Response(status, json=body, headers=headers)

    sender, http = meta_sender(answer)
    with pytest.raises(SendError) as raised:
        await sender.send(chat_message())
    await http.aclose()
    assert (raised.value.code, raised.value.retryable, raised.value.retry_after_s) == (
        code,
        retryable,
        wait,
    )


async def test_a_meta_answer_without_a_message_id_is_not_sent_again() -> None:
    sender, http = meta_sender(lambda request: httpx.Response(200, json={"messages": []}))
    with pytest.raises(SendError) as raised:
        await sender.send(chat_message())
    await http.aclose()
    assert (raised.value.code, raised.value.retryable) == ("bad_response", False)


async def test_a_meta_connection_failure_is_retried() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    sender, http = meta_sender(refuse)
    with pytest.raises(SendError) as raised:
        await sender.send(chat_message())
    await http.aclose()
    assert (raised.value.code, raised.value.retryable) == ("connect", True)


# --- Telegram ---------------------------------------------------------------------------------


def tg_ok(request: httpx.Request) -> httpx.Response:
    result = {
        "message_id": 77,
        "date": 1767000000,
        "chat": {"id": 42, "type": "private"},
        "text": "x",
    }
    return httpx.Response(200, json={"ok": True, "result": result})


def telegram_sender(rig: Rig, handler: Handler) -> tuple[TelegramSender, httpx.AsyncClient]:
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    sender = TelegramSender(
        token="123456:TEST-TOKEN",
        base_url="http://telegram.test/bot",
        http=http,
        redis=rig.redis,
        outbox=rig.outbox,
        chat_rate=1.0,
    )
    return sender, http


def sent_form(request: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.content.decode()).items()}


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


# --- Twilio WhatsApp --------------------------------------------------------------------------


def twilio_created(request: httpx.Request) -> httpx.Response:
    return httpx.Response(201, json={"sid": "SM" + "a" * 32, "status": "queued"})


def twilio_sender(
    handler: Handler, template: str | None = None
) -> tuple[TwilioWhatsAppSender, httpx.AsyncClient]:
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    sender = TwilioWhatsAppSender(
        account_sid="AC" + "0" * 32,
        auth_token="test-twilio-token",
        sender="+212500000000",
        status_callback="https://gw.test/channels/whatsapp/twilio/status",
        http=http,
        template_sid=template,
    )
    return sender, http


async def test_twilio_whatsapp_sends_numbered_options_between_whatsapp_addresses() -> None:
    recorder = Recorder(twilio_created)
    sender, http = twilio_sender(recorder)
    await sender.send(chat_message(text="Quel enfant ?", opts=options("Youssef", "Salma")))
    await http.aclose()
    form = sent_form(recorder.requests[0])
    assert (form["To"], form["From"]) == ("whatsapp:+212600000001", "whatsapp:+212500000000")
    assert form["Body"] == "Quel enfant ?\n1. Youssef\n2. Salma"
    assert form["StatusCallback"] == "https://gw.test/channels/whatsapp/twilio/status"


async def test_an_alert_outside_the_window_goes_as_a_content_template() -> None:
    recorder = Recorder(twilio_created)
    template = "HX" + "b" * 32
    sender, http = twilio_sender(recorder, template)
    await sender.send(chat_message(text="Youssef : 1 absence", kind=MessageKind.ALERT))
    await http.aclose()
    form = sent_form(recorder.requests[0])
    assert "Body" not in form
    assert form["ContentSid"] == template
    assert json.loads(form["ContentVariables"]) == {"1": "Youssef : 1 absence"}


async def test_a_twilio_63016_is_permanent() -> None:
    refused = {
        "code": 63016,
        "message": "Failed to send freeform message because you are outside the allowed window.",
        "status": 400,
    }
    sender, http = twilio_sender(lambda request: httpx.Response(400, json=refused))
    with pytest.raises(SendError) as raised:
        await sender.send(chat_message(kind=MessageKind.FOLLOWUP))
    await http.aclose()
    assert (raised.value.code, raised.value.retryable) == ("twilio:63016", False)


# --- through the worker: a permanent failure is sent once and recorded failed ------------------


@pytest.mark.parametrize(
    ("channel", "to", "refusal"),
    [
        (
            OutChannel.WHATSAPP,
            "+212600000001",
            (400, {"error": {"code": 131047, "message": "Re-engagement message"}}),
        ),
        (
            OutChannel.TELEGRAM,
            "telegram:42",
            (
                403,
                {
                    "ok": False,
                    "error_code": 403,
                    "description": "Forbidden: bot was blocked by the user",
                },
            ),
        ),
    ],
    ids=["meta-24h-window", "telegram-blocked"],
)
async def test_the_worker_records_a_permanent_refusal_once(
    rig: Rig, channel: OutChannel, to: str, refusal: tuple[int, dict[str, object]]
) -> None:
    import anyio

    from gateway.outbox.worker import OutboxWorker, WorkerConfig

    status, body = refusal
    recorder = Recorder(lambda request: httpx.Response(status, json=body))
    if channel is OutChannel.WHATSAPP:
        sender, http = meta_sender(recorder)
    else:
        sender, http = telegram_sender(rig, recorder)  # type: ignore[assignment]
    msg = chat_message(channel=channel, to=to)
    await rig.outbox.enqueue(msg)
    bucket = TokenBucket(rig.redis, rig.outbox.keys.bucket(channel.value), rate=1000, burst=1000)
    worker = OutboxWorker(
        rig.outbox,
        senders={channel: sender},
        pacers={channel: Pacer(bucket)},
        records=rig.records,
        config=WorkerConfig(consumer="w-chat", backoff_base_s=0.01, backoff_cap_s=0.05),
    )

    async def failed() -> bool:
        record = await rig.records.get(msg.id)
        return record is not None and record["status"] == "failed"

    stop = anyio.Event()
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(lambda: worker.run(stop=stop))
        await until(failed)
        stop.set()
    record = await rig.records.get(msg.id)
    assert record is not None
    await http.aclose()
    assert len(recorder.requests) == 1  # never retried
    assert record["attempts"] == 1
    assert record["error"] == (
        "meta:131047" if channel is OutChannel.WHATSAPP else "telegram:forbidden"
    )
