"""WhatsApp through Twilio, outbound: follow-ups and alerts (CHANNELS.md §2).

The same Messages API call as SMS (`TwilioSmsSender`), with `whatsapp:` addresses:

    To=whatsapp:+212600000001&From=whatsapp:+212500000000&Body=…

Within 24 hours of the parent's last message a free-form body is allowed; a reply always is
(it answers one). Follow-ups and alerts may fall outside the window, so when a template is
configured (`GATEWAY_TWILIO_WHATSAPP_TEMPLATE_SID`, an approved Content template whose one
variable `{{1}}` carries the text) they are sent as `ContentSid` + `ContentVariables`: a
template in `Body` fails since 2025-04-01. Outside the window without one, Twilio answers
63016, recorded as a permanent failure (never retried in a loop).
Docs: https://www.twilio.com/docs/whatsapp/api, https://www.twilio.com/docs/api/errors/63016
"""

from __future__ import annotations

import json
from typing import Any

from gateway.outbox.model import MessageKind, OutMessage
from gateway.outbox.senders.base import sms_text
from gateway.outbox.senders.twilio import TwilioSmsSender

__all__ = ["PREFIX", "TwilioWhatsAppSender"]

PREFIX = "whatsapp:"
TEMPLATE_TEXT_CHARS = 1024  # a Content template's variable: the body's limit


class TwilioWhatsAppSender(TwilioSmsSender):
    name = "twilio"

    def __init__(self, *, sender: str, template_sid: str | None = None, **twilio: Any) -> None:
        """`twilio`: `TwilioSmsSender`'s arguments; `sender` may omit `whatsapp:`."""
        if sender and not sender.startswith(("MG", PREFIX)):
            sender = PREFIX + sender
        super().__init__(sender=sender, **twilio)
        self._template_sid = template_sid

    def __repr__(self) -> str:
        return f"TwilioWhatsAppSender(account_sid={self._account_sid!r})"  # never the token

    def fields(self, msg: OutMessage) -> dict[str, str]:
        to = PREFIX + msg.to
        if msg.kind is not MessageKind.REPLY and self._template_sid:
            variables = {"1": sms_text(msg)[:TEMPLATE_TEXT_CHARS]}
            return {
                "to": to,
                "content_sid": self._template_sid,
                "content_variables": json.dumps(variables, ensure_ascii=False),
            }
        return {"to": to, "body": sms_text(msg)}
