"""WhatsApp through Twilio, outbound: replies, follow-ups and alerts (CHANNELS.md §2).

The same Messages API call as SMS (`TwilioSmsSender`), with `whatsapp:` addresses:

    To=whatsapp:+212600000001&From=whatsapp:+212500000000&Body=…

Within 24 hours of the parent's last message a free-form body is allowed; a reply always is
(it answers one). An alert to a parent whose window is closed (`senders/window.py`) goes out
as its approved Content template instead: `ContentSid` (from
GATEWAY_TWILIO_WHATSAPP_CONTENT_SIDS, one per template key: `absence.fr=HX…`) and
`ContentVariables`, the template's parameters as JSON (`{"1": "Youssef", "2": "…"}`); a
template in `Body` fails since 2025-04-01. A template without a configured Content SID is
recorded as failed (`no_content_sid`) without calling Twilio; a free-form body outside the
window gets Twilio's 63016, recorded as a permanent failure (never retried in a loop).
Docs: https://www.twilio.com/docs/whatsapp/api, https://www.twilio.com/docs/api/errors/63016,
https://www.twilio.com/docs/content/send-templates-created-with-the-content-template-builder
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import structlog

from gateway.outbox.model import OutMessage, Receipt, SendError, TemplateCall
from gateway.outbox.senders.base import sms_text
from gateway.outbox.senders.twilio import TwilioSmsSender
from gateway.outbox.senders.window import Window, template_of

__all__ = ["PREFIX", "TwilioWhatsAppSender", "content_fields"]

log = structlog.get_logger("gateway.outbox.twilio")

PREFIX = "whatsapp:"


def content_fields(template: TemplateCall, content_sid: str) -> dict[str, str]:
    """The create call's fields of a Content template: its SID and its variables."""
    fields = {"content_sid": content_sid}
    if template.params:
        variables = {str(i): value for i, value in enumerate(template.params, start=1)}
        fields["content_variables"] = json.dumps(variables, ensure_ascii=False)
    return fields


class TwilioWhatsAppSender(TwilioSmsSender):
    name = "twilio"

    def __init__(
        self,
        *,
        sender: str,
        content_sids: Mapping[str, str] | None = None,
        window: Window | None = None,
        **twilio: Any,
    ) -> None:
        """`twilio`: `TwilioSmsSender`'s arguments; `sender` may omit `whatsapp:`;
        `content_sids`: template key (`absence.fr`) -> Content SID; `window`: where the
        parents' 24-hour windows are read (None: every message is free-form)."""
        if sender and not sender.startswith(("MG", PREFIX)):
            sender = PREFIX + sender
        super().__init__(sender=sender, **twilio)
        self._content_sids = dict(content_sids or {})
        self._window = window

    def __repr__(self) -> str:
        return f"TwilioWhatsAppSender(account_sid={self._account_sid!r})"  # never the token

    def fields(self, msg: OutMessage) -> dict[str, str]:
        return {"to": PREFIX + msg.to, "body": sms_text(msg)}

    async def send(self, msg: OutMessage) -> Receipt:
        template = await template_of(msg, self._window)
        if template is None:
            return await self.create(msg, self.fields(msg))
        sid = self._content_sids.get(template.key)
        if sid is None:
            log.warning("twilio_whatsapp_no_content_sid", outbox_id=msg.id, template=template.key)
            raise SendError("no_content_sid", retryable=False, template=template.label)
        try:
            receipt = await self.create(
                msg, {"to": PREFIX + msg.to, **content_fields(template, sid)}
            )
        except SendError as exc:
            exc.template = template.label
            raise
        return Receipt(provider_id=receipt.provider_id, template=template.label)
