"""Kannel: SMS from operators' SMSCs, and delivery reports (CHANNELS.md §14.2, §14.4, §14.7).

smsbox's `post-url` posts each SMS from a phone, the text as the body in the charset its
Content-Type names (UTF-16BE for Arabic unless smsbox has `mo-recode = true`):

    POST /channels/sms/kannel?token=…&from=%2B212600000001&to=2020&smsc=IAM
         &id=e2d9e800-1176-47ae-80d0-d237e3a82363&ts=1796220932&coding=0&charset=UTF-8
    Content-Type: text/plain; charset="UTF-8"           (X-Kannel-UDH: … on binary messages)

    ABS

`get-url` sends the same query plus `&text=%b` (the text's bytes, URL-encoded) as a GET.
The answer is an empty 200 (the sms-service has `max-messages = 0`: nothing in it reaches the
phone, error texts included); the reply leaves through the outbox as an interactive SMS, from
the short code (`to`) and operator link (`smsc`) the SMS came in on. smsbox calls again with
the same `id` when a call fails; the turn remembers its answer under that id and the reply's
idempotency key derives from it, so a repeat sends nothing twice. Kannel does not sign its
calls: a token in the URL and an address allowlist stand in.

Answers: 403 bad token or address; 400 no `id` (the post-url is misconfigured); 200 with a
short reason for what a retry would not change (empty or binary text, unknown coding, a sender
that is not a phone number); 503 while the outbox or the database is unreachable (smsbox
tries again).

Delivery reports: `GET /channels/sms/kannel/dlr?token=…&msg=<our message id>&status=%d&smsc=%i`
(the link, `smsc`, only labels `massar_delivery_reports`: a Kannel link name, else `unknown`).
Docs: Kannel 1.4.5 User's Guide, "SMS service configurations" (escape codes) and
"Delivery reports"; smsbox's behaviour as run here is in CHANNELS.md §14.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

import anyio
import structlog
from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response

from gateway.channels.common import (
    ChannelError,
    PayloadError,
    SignatureError,
    same_secret,
)
from gateway.channels.twilio_sms import MAX_INPUT_CHARS, SMS_PROFILE, sms_turn
from gateway.deps import runtime
from gateway.dialogs.model import Screen
from gateway.outbox.model import MessageKind, OutChannel, OutMessage, outbound
from gateway.phones import to_e164
from gateway.settings import SENDER_ADDRESS, SMSC_ID, Settings
from gateway.state.errors import StoreUnavailable
from gateway.turns.turn import Prepare

log = structlog.get_logger("gateway.channels.kannel")

ROUTE = "/channels/sms/kannel"
DLR_ROUTE = "/channels/sms/kannel/dlr"
# A concatenated SMS holds at most 255 parts of 140 bytes; anything bigger is not one.
MAX_BODY_BYTES = 64 * 1024
# smsbox retries every `http-queue-delay` (10 s) a few times; an hour covers them all.
DEDUPE_S = 3600
# A report may overtake the worker's record of the send (fakesmsc reports at once): wait
# this long, in steps, for the record before calling the message unknown.
DLR_WAITS_S = (0.05, 0.1, 0.2, 0.4, 0.8)

_CHARSETS = {
    "UTF-8": "utf-8",
    "UTF8": "utf-8",
    "UTF-16BE": "utf-16-be",
    "UCS-2": "utf-16-be",
    "UCS2": "utf-16-be",
    "ISO-8859-1": "latin-1",
    "LATIN1": "latin-1",
    "WINDOWS-1252": "cp1252",
}
_BINARY_CHARSETS = frozenset({"8-BIT", "BINARY"})
KANNEL_ID = re.compile(r"[A-Za-z0-9-]{1,64}")  # a UUID from Kannel
_OUR_ID = re.compile(r"[0-9a-f]{32}")  # OutMessage.id
_CONTENT_CHARSET = re.compile(r'charset="?([A-Za-z0-9_.:-]+)"?', re.IGNORECASE)


class Ignored(ChannelError):
    """Acknowledged and dropped: a retry would bring the same message, so 200, not an error."""

    status = 200


@dataclass(frozen=True, slots=True, kw_only=True)
class KannelSms:
    id: str  # Kannel's %I
    phone: str  # E.164
    text: str
    to: str | None  # our short code or number (%P), when it looks like one
    smsc: str | None  # the operator link it came in on (%i)


def parse_payload(data: Mapping[str, str], body: bytes) -> KannelSms:
    """The SMS in one smsbox call: `data` its query (plus `udh` and the body's `charset`
    when the headers give them), `body` the text's bytes as Kannel sent them."""
    kannel_id = data.get("id", "")
    if not KANNEL_ID.fullmatch(kannel_id):
        raise PayloadError("id missing")
    text = decode_text(data, body)
    if not text.strip():
        raise Ignored("ignored: empty text")
    phone = to_e164(data.get("from", ""))
    if phone is None:
        raise Ignored("ignored: sender is not a phone number")
    to, smsc = data.get("to", ""), data.get("smsc", "")
    return KannelSms(
        id=kannel_id,
        phone=phone,
        text=text[:MAX_INPUT_CHARS],
        to=to if SENDER_ADDRESS.fullmatch(to) else None,
        smsc=smsc if SMSC_ID.fullmatch(smsc) else None,
    )


def decode_text(data: Mapping[str, str], body: bytes) -> str:
    """The text of a message from a phone, decoded by the coding and charset Kannel names;
    `Ignored` for binary, unknown or undecodable text."""
    coding = data.get("coding", "") or "0"
    if coding not in ("0", "1", "2"):
        raise Ignored("ignored: unknown coding")
    charset = (data.get("charset") or ("UTF-16BE" if coding == "2" else "UTF-8")).upper()
    if coding == "1" or charset in _BINARY_CHARSETS or data.get("udh"):
        raise Ignored("ignored: binary message")
    codec = _CHARSETS.get(charset)
    if codec is None:
        raise Ignored("ignored: unknown charset")
    try:
        return body.decode(codec).replace("\x00", "")
    except UnicodeDecodeError:
        raise Ignored("ignored: text does not decode") from None


def verify(request: Request, settings: Settings) -> None:
    """The caller's address against the allowlist, and the callback token (constant time)."""
    host = request.client.host if request.client is not None else ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise SignatureError("address not allowed") from None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if not any(address in network for network in settings.kannel_allowed_ips):
        raise SignatureError("address not allowed")
    token = settings.kannel_callback_token
    given = request.query_params.get("token")
    if not same_secret(given, token.get_secret_value() if token else None):
        raise SignatureError("bad token")


def call_fields(
    method: str, query: bytes, headers: Mapping[str, str], body: bytes
) -> tuple[dict[str, str], bytes]:
    """(fields, text bytes) of one smsbox call, a `post-url` POST or a `get-url` GET.

    The query is read byte for byte (values decoded as latin-1), so `text=%b` keeps its bytes
    (UTF-16BE for Arabic) for `parse_payload` to decode with the charset Kannel names. A POST
    adds what its headers say: the body's charset, binary content, a UDH. `headers` keys are
    lower-case.
    """
    data = dict(parse_qsl(query.decode("latin-1"), keep_blank_values=True, encoding="latin-1"))
    if method == "GET":
        return data, data.pop("text", "").encode("latin-1")
    content_type = headers.get("content-type", "")
    if content_type.startswith("application/octet-stream"):
        data["coding"] = "1"
    if "charset" not in data and (found := _CONTENT_CHARSET.search(content_type)):
        data["charset"] = found.group(1)
    if headers.get("x-kannel-udh"):
        data["udh"] = headers["x-kannel-udh"]
    return data, body


def prepare_turn(sms: KannelSms, now: datetime) -> Prepare:
    return sms_turn(sms.phone, sms.text, sms.id, now)


def reply_key(sms: KannelSms) -> str:
    """The idempotency key of the reply to `sms`: one reply per Kannel message id."""
    return f"reply:kannel:{sms.id}"


def reply_message(screen: Screen, sms: KannelSms, now: datetime) -> OutMessage:
    """The turn's screen as the reply to `sms`, on the link and from the number it came in on."""
    return outbound(
        MessageKind.REPLY,
        key=reply_key(sms),
        channel=OutChannel.SMS,
        to=sms.phone,
        text=screen.text,
        now=now,
        options=screen.options,
        sender_id=sms.to,
        route=sms.smsc,
        student=screen.child,
    )


def record_status(code: int) -> tuple[str, str | None] | None:
    """A DLR `%d` as a message record's (status, error); None for a value with no meaning.

    1 delivered; 8 (taken by the SMSC) and 4 (buffered there) are "sent"; 2 (not delivered),
    16 (refused by the SMSC) and Kannel's own 34 (expired) and 66 (unknown), which carry bit 2,
    failed. A report carries one event, so a mask such as 3 means nothing.
    """
    if code in (2, 16) or (code > 16 and code & 2):
        return "failed", f"kannel:dlr:{code}"
    if code == 1:
        return "delivered", None
    if code in (4, 8):
        return "sent", None
    return None


router = APIRouter(tags=["channels"])
dlr_router = APIRouter(tags=["channels"])
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "No Kannel message id: the post-url is misconfigured"},
    403: {"description": "Bad token or address not allowed"},
    503: {"description": "The outbox or the records are unreachable; Kannel tries again"},
}


@router.post(
    ROUTE,
    operation_id="sms_kannel_post",
    summary="Kannel: an SMS from a phone (smsbox post-url)",
    response_class=Response,
    responses=ERRORS,
)
@router.get(
    ROUTE,
    operation_id="sms_kannel_get",
    summary="Kannel: an SMS from a phone (smsbox get-url, the text in `text`)",
    response_class=Response,
    responses=ERRORS,
)
async def sms_kannel(request: Request) -> Response:
    state = runtime(request)
    settings: Settings = state.settings
    try:
        verify(request, settings)
        body = await request.body() if request.method == "POST" else b""
        if len(body) > MAX_BODY_BYTES:
            raise Ignored("ignored: body too large")
        data, text = call_fields(
            request.method, request.scope.get("query_string", b""), request.headers, body
        )
        sms = parse_payload(data, text)
    except ChannelError as exc:
        event = "kannel_mo_ignored" if isinstance(exc, Ignored) else "kannel_mo_refused"
        log.info(event, reason=exc.reason, status=exc.status)
        return PlainTextResponse(exc.reason, status_code=exc.status)
    try:
        screen: Screen = await state.turns.run(
            prepare_turn(sms, datetime.now(UTC)),
            profile=SMS_PROFILE,
            user=sms.phone,
            budget_s=settings.sms_budget_s,
            message_id=sms.id,
            remember_s=DEDUPE_S,
        )
    except StoreUnavailable as exc:
        # The bindings' database failed mid-turn: nothing was remembered, so smsbox's next
        # try of this id runs the turn again.
        log.warning("kannel_turn_failed", error=type(exc).__name__)
        return PlainTextResponse("try again", status_code=503, headers={"Retry-After": "10"})
    try:
        # After the turn, not in it: a repeat of this id gets the remembered answer, and the
        # key lets only the first one into the queue.
        queued = await state.outbox.enqueue(reply_message(screen, sms, datetime.now(UTC)))
    except StoreUnavailable as exc:
        log.warning("kannel_reply_not_queued", error=type(exc).__name__)
        return PlainTextResponse("try again", status_code=503, headers={"Retry-After": "10"})
    if queued is None:
        log.info("kannel_mo_repeated")
    return Response(status_code=200)  # smsbox counts only 200 and 202 as success, not 204


@dlr_router.get(DLR_ROUTE, summary="Kannel delivery report", response_class=Response)
async def sms_kannel_dlr(request: Request) -> Response:
    state = runtime(request)
    try:
        verify(request, state.settings)
    except ChannelError as exc:
        log.info("kannel_dlr_refused", reason=exc.reason)
        return PlainTextResponse(exc.reason, status_code=exc.status)
    query = request.query_params
    message_id, raw_status = query.get("msg", ""), query.get("status", "")
    numeric = raw_status.isascii() and raw_status.isdigit() and len(raw_status) <= 3
    mapped = record_status(int(raw_status)) if numeric else None
    if not _OUR_ID.fullmatch(message_id) or mapped is None:
        log.info("kannel_dlr_ignored", status=raw_status[:8])
        return PlainTextResponse("ignored")
    status, error = mapped
    try:
        moved = await state.records.own_status(message_id, status, error, datetime.now(UTC))
        for wait_s in DLR_WAITS_S:
            if moved is not None:
                break
            await anyio.sleep(wait_s)
            moved = await state.records.own_status(message_id, status, error, datetime.now(UTC))
    except StoreUnavailable as exc:
        log.warning("kannel_dlr_not_recorded", error=type(exc).__name__)
        return PlainTextResponse("try again", status_code=503, headers={"Retry-After": "10"})
    link = query.get("smsc", "")
    state.metrics.delivery_reports.labels(
        channel="sms", link=link if SMSC_ID.fullmatch(link) else "unknown", status=status
    ).inc()
    if moved is None:
        log.info("kannel_dlr_unknown_message", status=status)
        return PlainTextResponse("ignored: unknown message")
    log.info("kannel_dlr", status=status, moved=moved)
    return Response(status_code=200)
