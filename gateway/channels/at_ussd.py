"""Africa's Talking USSD: `POST /channels/ussd/africastalking?token=…` (CHANNELS.md §5).

AT posts a form on every screen and shows our `text/plain` answer, `CON …` to wait for input
or `END …` to close. `text` holds *all* inputs of the session joined by `*`:

    sessionId=ATUid_1&serviceCode=*123#&phoneNumber=+212600000001&networkCode=60400&text=1*2

AT does not sign its callbacks, so the callback URL carries a secret (`GATEWAY_AT_USSD_TOKEN`).
Docs: https://developers.africastalking.com/docs/ussd/overview
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response

from gateway.channels.common import (
    ChannelError,
    PayloadError,
    SignatureError,
    fields,
    read_form,
    same_secret,
)
from gateway.dialogs.conversation import Step
from gateway.dialogs.model import ChannelKind, ChannelProfile, Inbound, Session
from gateway.dialogs.pages import render_options
from gateway.phones import to_e164
from gateway.settings import Settings
from gateway.store import SESSION_TTL_S
from gateway.turns import Prepare

ROUTE = "/channels/ussd/africastalking"
PROFILE = ChannelProfile(kind=ChannelKind.USSD, max_chars_gsm7=160, max_chars_ucs2=80)
MAX_INPUT_CHARS = 200  # a keypad input is short; anything longer is cut before matching


@dataclass(frozen=True, slots=True, kw_only=True)
class UssdRequest:
    session_id: str
    service_code: str
    phone: str  # E.164
    network_code: str
    text: str


def verify(request: Request, settings: Settings) -> None:
    expected = settings.at_ussd_token.get_secret_value() if settings.at_ussd_token else None
    if not same_secret(request.query_params.get("token"), expected):
        raise SignatureError("bad token")


def parse_payload(data: Mapping[str, str]) -> UssdRequest:
    session_id = data.get("sessionId", "").strip()
    if not session_id or len(session_id) > 128:
        raise PayloadError("sessionId missing")
    phone = to_e164(data.get("phoneNumber", ""))
    if phone is None:
        raise PayloadError("phoneNumber is not a phone number")
    return UssdRequest(
        session_id=session_id,
        service_code=data.get("serviceCode", ""),
        phone=phone,
        network_code=data.get("networkCode", ""),
        text=data.get("text", ""),
    )


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def latest_input(text: str, stored: Session | None, session_digest: str) -> tuple[str, bool]:
    """This screen's input from AT's whole `text`: (input, does it open a session?).

    The session keeps only the length and a hash of the path it consumed (the path holds the
    codes and birth dates typed earlier). When the history does not match, the last segment
    counts.
    """
    if stored is None or stored.channel.get("sid") != session_digest:
        return (text.rsplit("*", 1)[-1] if text else ""), True
    consumed = int(stored.channel.get("plen", "0"))
    if consumed == 0:
        return text, False
    if text[consumed : consumed + 1] == "*" and _digest(text[:consumed]) == stored.channel.get(
        "ph"
    ):
        return text[consumed + 1 :], False
    return text.rsplit("*", 1)[-1], False


def prepare_turn(req: UssdRequest, now: datetime) -> Prepare:
    session_digest = _digest(req.session_id)

    def prepare(stored: Session | None) -> tuple[Inbound, Session | None]:
        latest, new = latest_input(req.text, stored, session_digest)
        channel = {"sid": session_digest, "plen": str(len(req.text)), "ph": _digest(req.text)}
        inbound = Inbound(
            channel=ChannelKind.USSD,
            sender=req.phone,
            text=latest[:MAX_INPUT_CHARS],
            message_id=f"{session_digest}:{len(req.text)}",
            session_id=req.session_id,
            new_session=new,
            received_at=now,
            network=req.network_code or None,
        )
        base = stored if stored is not None and not new else Session()
        return inbound, base.with_(channel=channel)

    return prepare


def render(step: Step) -> str:
    """`CON <text>\\n1. …` to wait for the next input, `END <text>` to close the session."""
    reply = step.replies[-1]
    body = reply.text
    if reply.options and not reply.end_session:
        body = f"{body}\n{render_options(reply.options)}"
    return ("END " if reply.end_session else "CON ") + body


router = APIRouter(tags=["channels"])


@router.post(
    ROUTE,
    summary="Africa's Talking USSD screen",
    response_class=PlainTextResponse,
    responses={400: {"description": "Malformed request"}, 403: {"description": "Bad token"}},
)
async def ussd_africastalking(request: Request) -> Response:
    state = request.app.state
    settings: Settings = state.settings
    try:
        verify(request, settings)
        req = parse_payload(fields(await read_form(request)))
    except ChannelError as exc:
        return PlainTextResponse(exc.reason, status_code=exc.status)
    # The same (sessionId, text) always gets the same screen: AT may repeat a request.
    body = await state.turns.run(
        prepare_turn(req, datetime.now(UTC)),
        profile=PROFILE,
        user=req.phone,
        budget_s=settings.ussd_budget_s,
        message_id=f"{req.session_id}:{req.text}",
        render=render,
        remember_s=SESSION_TTL_S[ChannelKind.USSD],
    )
    return PlainTextResponse(body)
