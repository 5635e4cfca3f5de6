"""Local fakes and builders for the chat apps' sender tests (never the network)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from urllib.parse import parse_qs

import httpx

from gateway.dialogs.model import Option
from gateway.outbox.model import MessageKind, OutChannel, OutMessage, TemplateCall, outbound
from gateway.outbox.senders.meta import MetaSender
from gateway.outbox.senders.telegram import TelegramSender
from gateway.outbox.senders.twilio_whatsapp import TwilioWhatsAppSender
from gateway.outbox.senders.window import Window
from gateway.state.outbox.bucket import ChatBuckets
from tests.outbox.conftest import Rig

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
    template: TemplateCall | None = None,
) -> OutMessage:
    return outbound(
        kind,
        key=f"test:{uuid.uuid4().hex}",
        channel=channel,
        to=to,
        text=text,
        options=opts,
        now=datetime.now(UTC),
        template=template,
    )


class Recorder:
    def __init__(self, answer: Callable[[httpx.Request], httpx.Response]) -> None:
        self.requests: list[httpx.Request] = []
        self.answer = answer

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.answer(request)


def meta_sender(
    handler: Handler, window: Window | None = None
) -> tuple[MetaSender, httpx.AsyncClient]:
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    sender = MetaSender(
        access_token="test-meta-token",
        phone_number_id="106540352242922",
        graph_url="http://graph.test/v21.0",
        http=http,
        window=window,
    )
    return sender, http


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
        outbox=rig.outbox,
        chats=ChatBuckets(rig.redis, rig.outbox.keys, rate=1.0),
    )
    return sender, http


def sent_form(request: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.content.decode()).items()}


def twilio_created(request: httpx.Request) -> httpx.Response:
    return httpx.Response(201, json={"sid": "SM" + "a" * 32, "status": "queued"})


def twilio_sender(
    handler: Handler,
    content_sids: Mapping[str, str] | None = None,
    window: Window | None = None,
) -> tuple[TwilioWhatsAppSender, httpx.AsyncClient]:
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    sender = TwilioWhatsAppSender(
        account_sid="AC" + "0" * 32,
        auth_token="test-twilio-token",
        sender="+212500000000",
        status_callback="https://gw.test/channels/whatsapp/twilio/status",
        http=http,
        content_sids=content_sids,
        window=window,
    )
    return sender, http
