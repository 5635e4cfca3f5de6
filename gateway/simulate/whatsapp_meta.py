"""WhatsApp Cloud API (Meta): signed notifications in, replies drawn as Meta would show them.

Each line typed is a text message; a number or a `[label]` that names a button or a list row
of the last message taps it (an `interactive` reply carrying the option's id). Messages are
signed with the app secret (`X-Hub-Signature-256`) as Meta signs them. The answers come back
through the outbox and are drawn from the very Graph API body the Meta sender would post:
buttons as `[Absences] [Notes]`, a list as its button and rows.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from gateway.dialogs.model import Option
from gateway.outbox.model import MessageKind, OutChannel, outbound
from gateway.outbox.senders.meta import payload
from gateway.simulate.inbox import SentMessage, show_message
from gateway.simulate.phones import Phone, register

META_ROUTE = "/channels/whatsapp/meta"
BUSINESS_NUMBER = "212500000000"


def meta_signature(body: bytes, app_secret: str) -> str:
    """`X-Hub-Signature-256` as Meta computes it: HMAC-SHA256 of the raw body."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def notification(phone: str, message: dict[str, Any]) -> dict[str, Any]:
    """A `messages` notification from `phone` (E.164) carrying `message` (its type's part)."""
    wa_id = phone.removeprefix("+")
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": BUSINESS_NUMBER, "phone_number_id": "1"},
        "contacts": [{"profile": {"name": "Simulator"}, "wa_id": wa_id}],
        "messages": [
            {
                "from": wa_id,
                "id": f"wamid.SIM{uuid.uuid4().hex}",
                "timestamp": str(int(time.time())),
                **message,
            }
        ],
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "0", "changes": [{"field": "messages", "value": value}]}],
    }


def pick(options: list[tuple[str, str]], line: str) -> tuple[str, str] | None:
    """The (id, title) a typed line taps: its number in the drawing, or `[title]`."""
    text = line.strip()
    if text.isdigit() and 1 <= int(text) <= len(options):
        return options[int(text) - 1]
    label = text.removeprefix("[").removesuffix("]").strip().casefold()
    return next((o for o in options if o[1].casefold() == label), None)


@register("whatsapp-meta")
class MetaWhatsAppPhone(Phone):
    replies_later = True
    screen = "chat"
    session_channel = "whatsapp"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.buttons: list[tuple[str, str]] = []  # (id, title) of the last message's taps
        self.list_reply = False

    async def send(self, text: str) -> str:
        return await self._deliver(text, pick(self.buttons, text) if self.buttons else None)

    async def press(self, option: str) -> str:
        """Tap the button or list row whose id is `option` (the web simulator's buttons)."""
        tapped = next((b for b in self.buttons if b[0] == option), None)
        return await self._deliver(option, tapped)

    async def _deliver(self, text: str, tapped: tuple[str, str] | None) -> str:
        if tapped is None:
            message: dict[str, Any] = {"type": "text", "text": {"body": text}}
        else:
            kind = "list_reply" if self.list_reply else "button_reply"
            reply = {"id": tapped[0], "title": tapped[1]}
            message = {"type": "interactive", "interactive": {"type": kind, kind: reply}}
        body = json.dumps(notification(self.phone, message)).encode()
        secret = self.settings.meta_app_secret
        signature = meta_signature(body, secret.get_secret_value() if secret else "")
        response = await self.http.post(
            META_ROUTE,
            content=body,
            headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature},
        )
        return "" if response.status_code == 200 else f"[{response.status_code}] {response.text}"

    def show(self, msg: SentMessage) -> str | None:
        if msg.status == "failed" or msg.text is None:
            return show_message(msg)
        options = tuple(Option(key=o.key or "", id=o.id, label=o.label) for o in msg.options)
        out = outbound(
            MessageKind.REPLY,
            key="",
            channel=OutChannel.WHATSAPP,
            to=self.phone,
            text=msg.text,
            now=datetime.now(UTC),
            options=options,
            message_id=msg.id,
        )
        return self.draw(payload(out))

    def draw(self, body: dict[str, Any]) -> str:
        """The Graph API body as the phone shows it; remembers what can be tapped."""
        self.buttons, self.list_reply = [], False
        if body["type"] == "text":
            return f"[WhatsApp] {body['text']['body']}"
        inter = body["interactive"]
        text = f"[WhatsApp] {inter['body']['text']}"
        if inter["type"] == "button":
            self.buttons = [
                (b["reply"]["id"], b["reply"]["title"]) for b in inter["action"]["buttons"]
            ]
            return (
                text + "\n" + "  ".join(f"[{n}: {t}]" for n, (_, t) in enumerate(self.buttons, 1))
            )
        self.list_reply = True
        rows = [row for section in inter["action"]["sections"] for row in section["rows"]]
        self.buttons = [(row["id"], row["title"]) for row in rows]
        lines = [f"  {n}. {title}" for n, (_, title) in enumerate(self.buttons, 1)]
        return "\n".join([text, f"  ≡ {inter['action']['button']}", *lines])
