"""Handsets of the chat apps for the tests: each sends the providers' recorded payloads
(`tests/fixtures/whatsapp_twilio/`, `whatsapp_meta/`, `telegram/`), changed only where a test
needs (the sender, an id, the text), signed as the provider signs them, and reads back what
the gateway answered: TwiML for Twilio, the reply queued in the outbox for Meta and Telegram.

Every handset shows a reply as a `Screen`: its text and options, so one walk of the dialogs
serves all three (`test_chat_screens.py`).
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient

from gateway.deps import runtime_of
from gateway.dialogs.model import ChannelKind, Session
from gateway.outbox.entries import decode
from gateway.outbox.model import OutChannel, OutMessage
from gateway.outbox.records import Outcome
from gateway.outbox.senders.telegram import chat_address
from gateway.simulate import twiml_text
from gateway.simulate.whatsapp_meta import meta_signature
from gateway.state.outbox.priority import Priority
from tests.gateway.conftest import PUBLIC_URL, sign_twilio

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
META_SECRET = "test-meta-app-secret"
META_VERIFY = "test-meta-verify-token"
TELEGRAM_SECRET = "test-telegram-webhook-secret"
_IDS = itertools.count(900_000_001)
_OPTION_LINE = re.compile(r"^(\d)\. (.+)$")


def load(provider: str, name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((FIXTURES / provider / f"{name}.json").read_text("utf-8"))
    return doc


@dataclass(frozen=True)
class Screen:
    """What the handset shows: the text and the options (key, id, label)."""

    text: str
    options: tuple[tuple[str, str, str], ...] = ()

    def option(self, option_id: str) -> tuple[str, str, str]:
        """The option; one no longer on screen is tapped anyway (an old message's button)."""
        return next((o for o in self.options if o[1] == option_id), (option_id,) * 3)

    @property
    def ids(self) -> list[str]:
        return [o[1] for o in self.options]


@dataclass
class ChatGateway:
    """A gateway with the chat channels on and no sender: replies wait in the outbox."""

    client: TestClient

    @property
    def state(self) -> Any:
        return runtime_of(self.client.app)

    def queued(self, to: str | None = None) -> list[OutMessage]:
        outbox = self.state.outbox
        stream = outbox.keys.stream(Priority.INTERACTIVE)
        rows = self.client.portal.call(outbox.redis.xrange, stream)  # type: ignore[union-attr]
        messages = [decode(stream, str(i), fields).message for i, fields in rows]
        return [m for m in messages if to is None or m.to == to]

    def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        return self.client.portal.call(fn, *args)  # type: ignore[union-attr]

    def forget_session(self, kind: ChannelKind, phone: str) -> None:
        self.call(self.state.sessions.delete, kind, phone)

    def snapshot(self, kind: ChannelKind, phone: str) -> Session | None:
        session: Session | None = self.call(self.state.sessions.load, kind, phone)
        return session

    def restore(self, kind: ChannelKind, phone: str, session: Session | None) -> None:
        """Put a session back as it was (a walk of the dialogs explores from it again)."""
        self.forget_session(kind, phone)
        if session is not None:
            self.call(self.state.sessions.save, kind, phone, session.with_(rev=0))


def write_sent(chat: ChatGateway, provider_id: str) -> str:
    """A message record the outbox wrote when `provider_id` took it; its id."""
    msg = OutMessage(
        id=uuid.uuid4().hex,
        key=f"test:{uuid.uuid4().hex}",
        channel=OutChannel.WHATSAPP,
        to="+212600000001",
        text="x",
        created_at=datetime.now(UTC),
    )
    sent = Outcome(message=msg, status="sent", at=datetime.now(UTC), provider_id=provider_id)
    chat.call(chat.state.records.write, [sent], [uuid.uuid4().hex])
    return msg.id


def screen_of(msg: OutMessage) -> Screen:
    return Screen(msg.text, tuple((o.key, o.id, o.label) for o in msg.options))


# --- WhatsApp through Meta --------------------------------------------------------------------


def meta_post(
    client: TestClient, doc: dict[str, Any], *, secret: str | None = META_SECRET, **headers: str
) -> httpx.Response:
    body = json.dumps(doc, ensure_ascii=False).encode()
    if secret is not None:
        headers.setdefault("X-Hub-Signature-256", meta_signature(body, secret))
    return client.post(
        "/channels/whatsapp/meta",
        content=body,
        headers={"Content-Type": "application/json", **headers},
    )


def meta_doc(name: str, *, phone: str, wamid: str | None = None, **fields: Any) -> dict[str, Any]:
    """A recorded notification from `phone`, with a fresh (or the given) wamid."""
    doc = copy.deepcopy(load("whatsapp_meta", name))
    value = doc["entry"][0]["changes"][0]["value"]
    wa_id = phone.removeprefix("+")
    for contact in value.get("contacts", []):
        contact["wa_id"] = wa_id
    for message in value.get("messages", []):
        message["from"] = wa_id
        message["id"] = wamid or f"wamid.TEST{uuid.uuid4().hex}"
        message.update(fields)
    return doc


@dataclass
class MetaHandset:
    chat: ChatGateway
    phone: str
    kind: ChannelKind = ChannelKind.WHATSAPP
    seen: int = 0

    def _reply(self, response: httpx.Response) -> Screen:
        assert response.status_code == 200, response.text
        queued = self.chat.queued(self.phone)
        assert len(queued) == self.seen + 1, queued
        self.seen += 1
        return screen_of(queued[-1])

    def type(self, text: str) -> Screen:
        doc = meta_doc("text", phone=self.phone, text={"body": text})
        return self._reply(meta_post(self.chat.client, doc))

    def tap(self, screen: Screen, option_id: str) -> Screen:
        _, _, label = screen.option(option_id)
        if len(screen.options) <= 3:
            part = {"type": "button_reply", "button_reply": {"id": option_id, "title": label}}
            doc = meta_doc("button_reply", phone=self.phone, interactive=part)
        else:
            part = {"type": "list_reply", "list_reply": {"id": option_id, "title": label}}
            doc = meta_doc("list_reply", phone=self.phone, interactive=part)
        return self._reply(meta_post(self.chat.client, doc))

    def reset(self) -> None:
        self.chat.forget_session(self.kind, self.phone)


# --- Telegram ---------------------------------------------------------------------------------


def telegram_post(
    client: TestClient, doc: dict[str, Any], *, secret: str | None = TELEGRAM_SECRET
) -> httpx.Response:
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    return client.post("/channels/telegram/webhook", json=doc, headers=headers)


def telegram_doc(
    name: str, *, chat_id: int, update_id: int | None = None, **fields: Any
) -> dict[str, Any]:
    """A recorded update from the private chat `chat_id` (its user has the same id)."""
    doc = copy.deepcopy(load("telegram", name))
    doc["update_id"] = update_id or next(_IDS)
    for part in ("message", "edited_message", "callback_query"):
        if part not in doc:
            continue
        item = doc[part]
        item["from"]["id"] = chat_id
        chat = item.get("chat") or item.get("message", {}).get("chat")
        if chat is not None and chat["type"] == "private":
            chat["id"] = chat_id
        contact = item.get("contact")
        if contact is not None and contact.get("user_id") == 704211330:
            contact["user_id"] = chat_id  # the recorded own contact stays one's own
        item.update(fields)
    return doc


@dataclass
class TelegramHandset:
    chat: ChatGateway
    phone: str
    chat_id: int = field(default_factory=lambda: next(_IDS))
    kind: ChannelKind = ChannelKind.TELEGRAM
    seen: int = 0

    @property
    def address(self) -> str:
        return chat_address(self.chat_id)

    def post(self, doc: dict[str, Any]) -> httpx.Response:
        response = telegram_post(self.chat.client, doc)
        assert response.status_code == 200, response.text
        return response

    def reply(self) -> Screen:
        queued = self.chat.queued(self.address)
        assert len(queued) == self.seen + 1, queued
        self.seen += 1
        return screen_of(queued[-1])

    def share_contact(self) -> Screen:
        contact = {
            "phone_number": self.phone.removeprefix("+"),
            "first_name": "P",
            "user_id": self.chat_id,
        }
        self.post(telegram_doc("contact_own", chat_id=self.chat_id, contact=contact))
        return self.reply()

    def type(self, text: str) -> Screen:
        self.post(telegram_doc("text", chat_id=self.chat_id, text=text))
        return self.reply()

    def tap(self, screen: Screen, option_id: str) -> Screen:
        screen.option(option_id)
        response = self.post(telegram_doc("callback_query", chat_id=self.chat_id, data=option_id))
        assert response.json()["method"] == "answerCallbackQuery"
        return self.reply()

    def reset(self) -> None:
        self.chat.forget_session(self.kind, self.phone)


# --- WhatsApp through Twilio ------------------------------------------------------------------


def twilio_post(client: TestClient, params: dict[str, str], **headers: str) -> httpx.Response:
    url = PUBLIC_URL + "/channels/whatsapp/twilio"
    headers.setdefault("X-Twilio-Signature", sign_twilio(url, params))
    return client.post("/channels/whatsapp/twilio", data=params, headers=headers)


def twilio_params(name: str, *, phone: str, **fields: str) -> dict[str, str]:
    params = {k: str(v) for k, v in load("whatsapp_twilio", name).items()}
    sid = f"SM{uuid.uuid4().hex}"
    params.update({"From": f"whatsapp:{phone}", "WaId": phone.removeprefix("+"), "MessageSid": sid})
    params.update({"SmsSid": sid, "SmsMessageSid": sid, **fields})
    return params


def parse_twiml_screen(twiml: str) -> Screen:
    """The `<Message>` as a screen: numbered lines at its end are its options."""
    lines = twiml_text(twiml).split("\n")
    options: list[tuple[str, str, str]] = []
    while lines and (found := _OPTION_LINE.match(lines[-1])):
        options.insert(0, (found.group(1), found.group(1), found.group(2)))
        lines.pop()
    return Screen("\n".join(lines), tuple(options))


@dataclass
class TwilioHandset:
    chat: ChatGateway
    phone: str
    kind: ChannelKind = ChannelKind.WHATSAPP
    last: str = ""  # the last `<Message>`, as the phone shows it

    def send(self, params: dict[str, str]) -> Screen:
        response = twilio_post(self.chat.client, params)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("application/xml")
        self.last = twiml_text(response.text)
        return parse_twiml_screen(response.text)

    def type(self, text: str) -> Screen:
        return self.send(twilio_params("text", phone=self.phone, Body=text))

    def tap(self, screen: Screen, option_id: str) -> Screen:
        key, _, _ = screen.option(option_id)
        return self.type(key)  # numbered options: the parent types the number

    def reset(self) -> None:
        self.chat.forget_session(self.kind, self.phone)
