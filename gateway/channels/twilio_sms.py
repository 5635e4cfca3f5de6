"""Twilio Programmable Messaging: inbound SMS and delivery callbacks (CHANNELS.md §1, §7).

Inbound: a signed form POST; we answer with TwiML in the same response.

    MessageSid=SM…&AccountSid=AC…&From=+212600000001&To=+212500000000&Body=ABS&NumSegments=1

Status: `MessageSid`, `MessageStatus` (`sent`, `delivered`, `failed`…), `ErrorCode`; callbacks
can arrive out of order, so the furthest state is kept. Twilio cannot take replies from
Moroccan phones (two-way SMS is not offered there): this adapter is one of several SMS paths,
and all of them share the provider-neutral part (`SMS_PROFILE`, the engine).
Docs: https://www.twilio.com/docs/messaging/guides/webhook-request
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from twilio.twiml.messaging_response import MessagingResponse

from gateway.channels.common import ChannelError, PayloadError, fields, read_form, verify_twilio
from gateway.deps import runtime
from gateway.dialogs.model import ChannelKind, ChannelProfile, Inbound, Screen, Session
from gateway.dialogs.pages import render_options
from gateway.phones import to_e164
from gateway.settings import Settings
from gateway.state.errors import StoreUnavailable
from gateway.turns.turn import Prepare

log = structlog.get_logger("gateway.channels.twilio_sms")

ROUTE = "/channels/sms/twilio"
STATUS_ROUTE = "/channels/sms/twilio/status"
# One segment in GSM-7, two in UCS-2 (Arabic): the budget of an absence answer (issue #4).
SMS_PROFILE = ChannelProfile(
    kind=ChannelKind.SMS, max_chars_gsm7=160, max_chars_ucs2=134, helpdesk=True
)
MAX_INPUT_CHARS = 500
# Twilio retries within seconds; an hour covers its retries and the fallback URL's.
DEDUPE_S = 3600
TWIML = "application/xml"

# Twilio handles these itself on long codes (it stops sending and still forwards them):
# answering would fail with error 21610, so the reply is empty TwiML.
TWILIO_OPT_OUT = frozenset(
    {"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout"}
)


@dataclass(frozen=True, slots=True, kw_only=True)
class SmsMessage:
    message_sid: str
    phone: str
    body: str


def parse_payload(data: Mapping[str, str]) -> SmsMessage:
    sid = data.get("MessageSid") or data.get("SmsSid") or ""
    if not sid or len(sid) > 64:
        raise PayloadError("MessageSid missing")
    phone = to_e164(data.get("From", ""))
    if phone is None:
        raise PayloadError("From is not a phone number")
    return SmsMessage(message_sid=sid, phone=phone, body=data.get("Body", ""))


def prepare_turn(msg: SmsMessage, now: datetime) -> Prepare:
    return sms_turn(msg.phone, msg.body, msg.message_sid, now)


def sms_turn(phone: str, text: str, message_id: str, now: datetime) -> Prepare:
    """The turn of one SMS, whoever carried it (Twilio, Kannel): no session of its own to
    derive the input from, unlike USSD; the text cut to what the engine reads."""

    def prepare(stored: Session | None) -> tuple[Inbound, Session | None]:
        inbound = Inbound(
            channel=ChannelKind.SMS,
            sender=phone,
            text=text[:MAX_INPUT_CHARS],
            message_id=message_id,
            received_at=now,
        )
        return inbound, stored

    return prepare


def reply_text(screen: Screen) -> str:
    if screen.options:
        return f"{screen.text}\n{render_options(screen.options)}"
    return screen.text


def render(screen: Screen) -> str:
    """The screen as TwiML: one message, its options as numbered lines."""
    twiml = MessagingResponse()
    twiml.message(reply_text(screen))
    return str(twiml)


# Twilio's message statuses: a callback naming another is refused (400).
STATUSES = frozenset(
    {
        "accepted",
        "scheduled",
        "queued",
        "sending",
        "sent",
        "receiving",
        "received",
        "undelivered",
        "failed",
        "delivered",
        "partially_delivered",
        "read",
        "canceled",
    }
)

# Twilio's statuses as the outbox's message records know them (the rest change nothing).
RECORD_STATUS = {
    "sent": "sent",
    "delivered": "delivered",
    "read": "read",
    "undelivered": "failed",
    "failed": "failed",
}

router = APIRouter(tags=["channels"])
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Malformed request"},
    403: {"description": "Bad signature"},
}


@router.post(ROUTE, summary="Twilio inbound SMS", response_class=Response, responses=ERRORS)
async def sms_twilio(request: Request) -> Response:
    state = runtime(request)
    settings: Settings = state.settings
    try:
        form = await read_form(request)
        verify_twilio(request, form, settings)
        msg = parse_payload(fields(form))
    except ChannelError as exc:
        return PlainTextResponse(exc.reason, status_code=exc.status)
    if msg.body.strip().casefold() in TWILIO_OPT_OUT:
        # Twilio answers these itself; the gateway records the opt-out, so no alert is tried.
        try:
            await state.preferences.opt_out(msg.phone)
        except StoreUnavailable as exc:  # Twilio refuses the sends meanwhile (21610)
            log.warning("opt_out_not_recorded", error=type(exc).__name__)
        return Response(str(MessagingResponse()), media_type=TWIML)
    screen = await state.turns.run(
        prepare_turn(msg, datetime.now(UTC)),
        profile=SMS_PROFILE,
        user=msg.phone,
        budget_s=settings.sms_budget_s,
        message_id=msg.message_sid,
        remember_s=DEDUPE_S,
    )
    return Response(render(screen), media_type=TWIML)


@router.post(STATUS_ROUTE, summary="Twilio SMS delivery status", status_code=204, responses=ERRORS)
async def sms_twilio_status(request: Request) -> Response:
    return await record_status(request, channel="sms")


async def record_status(request: Request, *, channel: str) -> Response:
    """A Twilio status callback (SMS or WhatsApp), verified, moved forward in the outbox's
    message records (a callback about a message it did not send changes nothing) and counted
    (`massar_delivery_reports`, link `twilio`)."""
    state = runtime(request)
    try:
        form = await read_form(request)
        verify_twilio(request, form, state.settings)
    except ChannelError as exc:
        return PlainTextResponse(exc.reason, status_code=exc.status)
    sid, status = form.get("MessageSid"), form.get("MessageStatus")
    if not isinstance(sid, str) or not isinstance(status, str) or status not in STATUSES:
        return PlainTextResponse("MessageSid or MessageStatus missing", status_code=400)
    error = form.get("ErrorCode")
    error = error if isinstance(error, str) and error else None
    code = f"twilio:{error[:16]}" if error is not None else None
    try:
        if status in RECORD_STATUS:  # the outbox's record of this message, if it sent it
            await state.records.status_callback(sid, RECORD_STATUS[status], code, datetime.now(UTC))
    except StoreUnavailable:
        # Not recorded: a 503 makes Twilio try again later rather than lose the status.
        return PlainTextResponse("try again", status_code=503, headers={"Retry-After": "60"})
    if status in RECORD_STATUS:
        state.metrics.delivery_reports.labels(
            channel=channel, link="twilio", status=RECORD_STATUS[status]
        ).inc()
    return Response(status_code=204)
