"""WhatsApp through Twilio: the same signed form and TwiML answer as SMS (CHANNELS.md §2, §7).

    MessageSid=SM…&From=whatsapp:+212600000001&To=whatsapp:+212500000000&Body=ABS
      &WaId=212600000001&ProfileName=…&MessageType=text&NumMedia=0

A tapped quick-reply button comes back as `ButtonPayload` (the option's id) and
`ButtonText`; options are shown as numbered lines, so a typed "2" works as well. A photo, a
voice note or a location gets one sentence saying what the service reads. Status callbacks
(`/status`) move the outbox's records as SMS ones do. Answers outside a reply (follow-ups,
alerts) leave through the WhatsApp sender (`gateway/outbox/senders/twilio_whatsapp.py`).
Every signed message, readable or not, notes the time the parent's 24-hour window opened
(`gateway.state.whatsapp`), which decides whether an alert is a session message or a template.
Docs: https://www.twilio.com/docs/messaging/guides/webhook-request,
https://www.twilio.com/docs/whatsapp/api
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from twilio.twiml.messaging_response import MessagingResponse

from gateway.channels.chat import (
    DEDUPE_S,
    WHATSAPP_TWILIO_PROFILE,
    ChatInput,
    chat_turn,
    note_whatsapp_inbound,
    say,
    try_again,
    user_lang,
)
from gateway.channels.common import ChannelError, PayloadError, fields, read_form, verify_twilio
from gateway.channels.twilio_sms import ERRORS, TWIML, record_status, render
from gateway.deps import runtime
from gateway.dialogs import texts
from gateway.dialogs.model import ChannelKind
from gateway.phones import to_e164
from gateway.settings import Settings
from gateway.state.errors import StoreUnavailable

ROUTE = "/channels/whatsapp/twilio"
STATUS_ROUTE = "/channels/whatsapp/twilio/status"
PREFIX = "whatsapp:"
# What Twilio's `MessageType` names that the engine reads; anything else is an attachment.
READABLE_TYPES = frozenset({"", "text", "button", "interactive"})


class Unsupported(ChannelError):
    """A message the engine cannot read (media, location): answered, not refused."""

    status = 200

    def __init__(self, phone: str) -> None:
        super().__init__("unsupported message type")
        self.phone = phone  # to answer in its session's language; never in `reason`


def parse_payload(data: Mapping[str, str]) -> ChatInput:
    sid = data.get("MessageSid") or data.get("SmsSid") or ""
    if not sid or len(sid) > 64:
        raise PayloadError("MessageSid missing")
    sender = data.get("From", "")
    if not sender.startswith(PREFIX):
        raise PayloadError("From is not a WhatsApp address")
    phone = to_e164(sender.removeprefix(PREFIX))
    if phone is None:
        raise PayloadError("From is not a phone number")
    body, button = data.get("Body", ""), data.get("ButtonPayload") or None
    media = data.get("NumMedia", "0") not in ("", "0") or "Latitude" in data
    if data.get("MessageType", "") not in READABLE_TYPES or (media and not body.strip()):
        raise Unsupported(phone)
    return ChatInput(message_id=sid, phone=phone, text=body, option_id=button)


router = APIRouter(tags=["channels"])


@router.post(ROUTE, summary="Twilio inbound WhatsApp", response_class=Response, responses=ERRORS)
async def whatsapp_twilio(request: Request) -> Response:
    state = runtime(request)
    settings: Settings = state.settings
    try:
        form = await read_form(request)
        verify_twilio(request, form, settings)
        msg = parse_payload(fields(form))
    except Unsupported as exc:
        await note_whatsapp_inbound(request, exc.phone, datetime.now(UTC))  # any message opens it
        lang = await user_lang(state.sessions, ChannelKind.WHATSAPP, exc.phone)
        twiml = MessagingResponse()
        twiml.message(say(lang, texts.UNSUPPORTED_MESSAGE))
        return Response(str(twiml), media_type=TWIML)
    except ChannelError as exc:
        return PlainTextResponse(exc.reason, status_code=exc.status)
    await note_whatsapp_inbound(request, msg.phone, datetime.now(UTC))
    try:
        screen = await state.turns.run(
            chat_turn(ChannelKind.WHATSAPP, msg, datetime.now(UTC)),
            profile=WHATSAPP_TWILIO_PROFILE,
            user=msg.phone,
            budget_s=settings.sms_budget_s,
            message_id=msg.message_id,
            remember_s=DEDUPE_S,
        )
    except StoreUnavailable:
        return try_again()
    return Response(render(screen), media_type=TWIML)


@router.post(
    STATUS_ROUTE, summary="Twilio WhatsApp delivery status", status_code=204, responses=ERRORS
)
async def whatsapp_twilio_status(request: Request) -> Response:
    return await record_status(request, channel="whatsapp")
