"""The outbox's values: a message to send, what a sender answers, and how sending fails.

```
OutMessage ──> Sender.send(msg) ──> Receipt(provider_id)
                                └─> raises SendError(code, retryable, retry_after_s)
```
A message is addressed by channel and address (`+212…` for SMS and WhatsApp, `telegram:<id>`).
Its `key` is the caller's idempotency key: the same key is sent at most once, whoever enqueues
it and however often.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from gateway.dialogs.model import Option
from gateway.state.outbox.priority import Priority

__all__ = [
    "MessageKind",
    "OutChannel",
    "OutMessage",
    "Receipt",
    "SendError",
    "TemplateCall",
    "outbound",
]


TEMPLATE_PREFIX = "massar_"  # every WhatsApp template's name starts so


class OutChannel(StrEnum):
    SMS = "sms"
    WHATSAPP = "whatsapp"
    TELEGRAM = "telegram"


class MessageKind(StrEnum):
    REPLY = "reply"  # the answer to an input, on a channel that takes no reply in the webhook
    FOLLOWUP = "followup"  # the answer of a live turn (USSD, voice) that was too slow
    ALERT = "alert"  # pushed by the change feed


@dataclass(frozen=True, slots=True, kw_only=True)
class TemplateCall:
    """The approved WhatsApp template an alert becomes outside the 24-hour window: its
    name (`gateway/alerts/templates.py`), language and body parameters, in order."""

    name: str
    lang: str
    params: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """What a message record shows: `massar_absence.fr`."""
        return f"{self.name}.{self.lang}"

    @property
    def key(self) -> str:
        """Its Twilio Content SID's key (GATEWAY_TWILIO_WHATSAPP_CONTENT_SIDS): `absence.fr`."""
        return f"{self.name.removeprefix(TEMPLATE_PREFIX)}.{self.lang}"


@dataclass(frozen=True, slots=True, kw_only=True)
class OutMessage:
    id: str  # the outbox's own id (32 hex), also the message record's primary key
    key: str  # idempotency key; only a keyed hash of it is stored
    channel: OutChannel
    to: str
    text: str
    options: tuple[Option, ...] = ()
    kind: MessageKind = MessageKind.REPLY
    priority: Priority = Priority.INTERACTIVE
    created_at: datetime
    attempt: int = 0  # sends tried before this one
    # Where it leaves from, when it must: a reply goes out from the short code and the
    # operator link its SMS came in on (Kannel's `to` and smsc-id). None: the sender's choice.
    sender_id: str | None = None
    route: str | None = None
    # The child the text is about (the backend's opaque student id), when the code that
    # queued it knows: the console shows such a text only after an agent checked that child.
    student: str | None = None
    # A WhatsApp alert's template, used when the parent's 24-hour window is closed.
    template: TemplateCall | None = None


# Each kind's place in the queue: replies first, then follow-ups, then alerts.
KIND_PRIORITY = {
    MessageKind.REPLY: Priority.INTERACTIVE,
    MessageKind.FOLLOWUP: Priority.FOLLOWUP,
    MessageKind.ALERT: Priority.BULK,
}


def outbound(
    kind: MessageKind,
    *,
    key: str,
    channel: OutChannel,
    to: str,
    text: str,
    now: datetime,
    options: tuple[Option, ...] = (),
    sender_id: str | None = None,
    route: str | None = None,
    student: str | None = None,
    message_id: str | None = None,
    template: TemplateCall | None = None,
) -> OutMessage:
    """A new message for the outbox, the one way every producer builds one: a fresh id
    (`message_id` when it already has one), the priority of its `kind`, created `now`."""
    return OutMessage(
        id=message_id if message_id is not None else uuid.uuid4().hex,
        key=key,
        channel=channel,
        to=to,
        text=text,
        options=options,
        kind=kind,
        priority=KIND_PRIORITY[kind],
        created_at=now,
        sender_id=sender_id,
        route=route,
        student=student,
        template=template,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Receipt:
    """The provider took the message; `provider_id` is what its status callbacks name,
    `template` the WhatsApp template it went out as (`TemplateCall.label`), if one."""

    provider_id: str
    template: str | None = None


class SendError(Exception):
    """A send that did not go through.

    `retryable` (429, 5xx, connection failures) is tried again with backoff; anything else
    (an invalid or opted-out number, a refused sender) is recorded as failed and never
    retried. `code` is short and free of personal data (`twilio:21211`, `http:503`,
    `connect`), `retry_after_s` the provider's own hint when it gave one. `opted_out` says the
    provider refused because the recipient opted out or blocked us (Twilio 21610, a Telegram
    bot blocked): the worker tells its `on_opted_out` hook, so no alert is tried again.
    """

    def __init__(
        self,
        code: str,
        *,
        retryable: bool,
        retry_after_s: float | None = None,
        opted_out: bool = False,
        template: str | None = None,
    ) -> None:
        super().__init__(code, retryable, retry_after_s)
        self.code = code
        self.retryable = retryable
        self.retry_after_s = retry_after_s
        self.opted_out = opted_out
        self.template = template  # the WhatsApp template the failed send tried, if one

    def __repr__(self) -> str:
        return f"SendError(code={self.code!r}, retryable={self.retryable})"
