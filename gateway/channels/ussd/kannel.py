"""USSD through an operator's SMPP USSD gateway and Kannel: `POST /channels/ussd/kannel`
(CHANNELS.md §15.A3, §15.A5).

The operator's USSD gateway sends each step as a `deliver_sm` (`service_type` "USSD") with
only the latest input, the session in the `its_session_info` TLV (0x1383: octet 1 the
session number, octet 2 a sequence number and, in its lowest bit, the end of the session)
and the step kind in `ussd_service_op` (0x0501, values per operator vendor:
`GATEWAY_USSD_KANNEL_OPS`). Kannel's `smpp-tlv` groups turn both into meta-data, and the
USSD `sms-service` posts the step, the input as the body:

    POST /channels/ussd/kannel?token=…&from=%2B212600000001&to=*2020%23&smsc=IAM-USSD
         &id=e2d9e800-1176-47ae-80d0-d237e3a82363&meta=%3Fsmpp%3Fussd_service_op%3D%2512
         %26its_session_info%3D%252A%2502%26&coding=0&charset=UTF-8
    Content-Type: text/plain; charset="UTF-8"

    1

The answer is the screen, with the TLVs of the `submit_sm` Kannel sends back (honoured with
`accept-x-kannel-headers = true`): the session echoed, the step kind, the end bit.

    200  Content-Type: text/plain; charset=utf-8
         X-Kannel-Meta-Data: ?smpp?ussd_service_op=%02&its_session_info=%2A%02
         X-Kannel-Coding: 0                      (2: UCS-2, for Arabic)

Kannel does not sign: the Kannel callback token and address allowlist of the SMS route
(`gateway.channels.kannel_sms.verify`) stand in; 403 otherwise. Everything past that gets
a screen Kannel can deliver, or nothing when the network aborted the session: a step with no
session TLV or an unknown kind ends the session cleanly ("busy"), an answer in a session
that ended gets "your session has ended", never a 500 (smsbox would send its own error
text, with no session TLV for the operator to route it by).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response

from gateway.channels.common import ChannelError
from gateway.channels.kannel_sms import KANNEL_ID, Ignored, call_fields, decode_text, verify
from gateway.channels.ussd.core import Op, Read, UssdHit, abort, answer, notice, refused, shown
from gateway.channels.ussd.ops import UssdOps, ops_for
from gateway.deps import runtime
from gateway.dialogs import texts
from gateway.dialogs.model import Screen, Session
from gateway.phones import to_e164
from gateway.settings import SMSC_ID, Settings
from gateway.text import is_gsm7

log = structlog.get_logger("gateway.channels.ussd.kannel")

CHANNEL = "ussd_kannel"
ROUTE = "/channels/ussd/kannel"
# A screen goes back in one submit_sm of at most 160 octets: Kannel sends GSM-7 one character
# per octet (160, not the 182 of packed septets) and UCS-2 in two (80), the core's profile.
# smsbox keeps that much only with `sms-length = 160` (default 140: 70 Arabic characters)
# and the link sends it whole with `max-sms-octets = 160` (deploy/kannel/kannel.conf).
MAX_BODY_BYTES = 2048  # a USSD string holds 182 characters; more is cut before decoding
END_BIT = 0x01  # its_session_info, octet 2
_META_GROUP = re.compile(r"\?([A-Za-z0-9_-]+)\?([^?]*)")


class Refused(ChannelError):
    """A step the gateway cannot take a turn for: the session ends cleanly (a 200 with an
    end-of-session screen), echoing the session when it was given."""

    status = 200

    def __init__(self, reason: str, session: bytes | None) -> None:
        super().__init__(reason)
        self.session = session


@dataclass(frozen=True, slots=True, kw_only=True)
class KannelUssd:
    id: str  # Kannel's %I
    phone: str  # E.164
    smsc: str | None  # the operator's USSD link (%i)
    session: bytes  # its_session_info as received (2 octets)
    op: Op
    text: str


def smpp_meta(meta: str) -> dict[str, bytes]:
    """The `smpp` group of Kannel meta-data (`%D`), each value as the TLV's octets:
    `?smpp?ussd_service_op=%01&its_session_info=*%00&` -> {…: b"\\x01", …: b"*\\x00"}."""
    for group, pairs in _META_GROUP.findall(meta):
        if group == "smpp":
            decoded = parse_qsl(pairs, keep_blank_values=True, encoding="latin-1")
            return {key: value.encode("latin-1") for key, value in decoded}
    return {}


def op_of(raw: bytes, session: bytes, ops: UssdOps) -> Op:
    """The step kind from `ussd_service_op` and the end bit of `its_session_info`."""
    if len(raw) != 1:
        raise Refused("no ussd_service_op", session)
    if raw[0] == ops.end or session[1] & END_BIT:
        return Op.ABORT
    if raw[0] == ops.new:
        return Op.NEW
    if raw[0] == ops.continue_:
        return Op.CONTINUE
    raise Refused("unknown ussd_service_op", session)


def parse_payload(data: Mapping[str, str], body: bytes, settings: Settings) -> KannelUssd:
    """One USSD step in one smsbox call: `data` its query (plus the body's charset), `body`
    the input's bytes as Kannel sent them."""
    meta = smpp_meta(data.get("meta", ""))
    session = meta.get("its_session_info", b"")
    if len(session) != 2:
        raise Refused("no its_session_info", None)
    smsc = data.get("smsc", "")
    smsc_id = smsc if SMSC_ID.fullmatch(smsc) else None
    op = op_of(
        meta.get("ussd_service_op", b""), session, ops_for(settings.ussd_kannel_ops, smsc_id)
    )
    kannel_id = data.get("id", "")
    if not KANNEL_ID.fullmatch(kannel_id):
        raise Refused("id missing", session)
    phone = to_e164(data.get("from", ""))
    if phone is None:
        raise Refused("sender is not a phone number", session)
    try:
        text = decode_text(data, body)
    except Ignored:
        text = ""  # binary or undecodable: no input, the screen asks again
    return KannelUssd(id=kannel_id, phone=phone, smsc=smsc_id, session=session, op=op, text=text)


def hit_of(step: KannelUssd) -> UssdHit:
    def read(own: Session | None) -> Read:
        if step.op is Op.NEW:
            return Read(text="", new=True)  # the dial: its text is the service code
        # An answer in a session this gateway does not hold (lost, or expired): start over.
        return Read(text=step.text, new=own is None)

    return UssdHit(
        phone=step.phone,
        # Session numbers are one octet, per link and phone, and come back after a while.
        session_id=f"{step.smsc or ''}:{step.session[0]:02x}",
        message_id=f"kannel:{step.id}",
        read=read,
        op=step.op,
    )


def reply(screen: Screen, session: bytes | None, ops: UssdOps) -> Response:
    """The screen, with the TLVs of the `submit_sm` that carries it: the session echoed with
    the end bit set or cleared, the step kind."""
    meta = f"?smpp?ussd_service_op={quote(bytes([ops.end if screen.end else ops.response]))}"
    if session is not None:
        info = bytes([session[0], (session[1] & ~END_BIT) | (END_BIT if screen.end else 0)])
        meta += f"&its_session_info={quote(info, safe='')}"
    text = shown(screen)
    headers = {"X-Kannel-Meta-Data": meta, "X-Kannel-Coding": "0" if is_gsm7(text) else "2"}
    return PlainTextResponse(text, headers=headers)


router = APIRouter(tags=["channels"])


@router.post(
    ROUTE,
    summary="Kannel: a USSD step from an operator's SMPP USSD gateway (smsbox post-url)",
    response_class=PlainTextResponse,
    responses={
        200: {"description": "The screen; X-Kannel-Meta-Data carries the session TLVs"},
        403: {"description": "Bad token or address not allowed"},
    },
)
async def ussd_kannel(request: Request) -> Response:
    if (refusal := refused(request, verify)) is not None:
        return refusal
    state = runtime(request)
    settings: Settings = state.settings
    body = (await request.body())[:MAX_BODY_BYTES]
    data, raw = call_fields("POST", request.scope.get("query_string", b""), request.headers, body)
    # smsbox also sends the meta-data as a header: a post-url without `meta=%D` still works.
    data.setdefault("meta", request.headers.get("x-kannel-meta-data", ""))
    smsc = data.get("smsc", "")
    ops = ops_for(settings.ussd_kannel_ops, smsc if SMSC_ID.fullmatch(smsc) else None)
    try:
        step = parse_payload(data, raw, settings)
    except Refused as exc:
        log.info("kannel_ussd_ended", reason=exc.reason)
        return reply(Screen(text=notice("ar", texts.BUSY), end=True), exc.session, ops)
    if step.op is Op.ABORT:
        await abort(state, hit_of(step))
        return Response(status_code=200)  # `omit-empty`: nothing goes to the phone
    screen = await answer(state, hit_of(step), end_on_result=settings.ussd_kannel_end_on_result)
    return reply(screen, step.session, ops)
