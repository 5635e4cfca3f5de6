"""Africa's Talking USSD: `POST /channels/ussd/africastalking?token=…` (CHANNELS.md §5).

AT posts a form on every screen and shows our `text/plain` answer, `CON …` to wait for input
or `END …` to close. `text` holds *all* inputs of the session joined by `*`:

    sessionId=ATUid_1&serviceCode=*123#&phoneNumber=+212600000001&networkCode=60400&text=1*2

That path is only how AT hands over input: this module reads this screen's input from it and
the USSD core (`gateway.channels.ussd.core`) does the rest; its `CON`/`END` is AT's wire.
AT does not sign its callbacks, so the callback URL carries a secret (`GATEWAY_AT_USSD_TOKEN`).
Docs: https://developers.africastalking.com/docs/ussd/overview
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

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
from gateway.channels.ussd.core import Read, UssdHit, answer, con_end, digest
from gateway.deps import runtime
from gateway.dialogs.model import Session
from gateway.phones import to_e164
from gateway.settings import Settings

CHANNEL = "ussd_africastalking"
ROUTE = "/channels/ussd/africastalking"


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


def latest_input(text: str, own: Session | None) -> Read:
    """This screen's input from AT's whole `text`.

    `own` is the stored session of this AT session. It keeps only the length and a hash of
    the path it consumed (the path holds the codes and birth dates typed earlier). When the
    history does not match, the last segment counts.
    """
    channel = {"plen": str(len(text)), "ph": digest(text)}
    if own is None:
        return Read(text=text.rsplit("*", 1)[-1] if text else "", new=True, channel=channel)
    consumed = int(own.channel.get("plen", "0"))
    if consumed == 0:
        return Read(text=text, new=False, channel=channel)
    if text[consumed : consumed + 1] == "*" and digest(text[:consumed]) == own.channel.get("ph"):
        return Read(text=text[consumed + 1 :], new=False, channel=channel)
    return Read(text=text.rsplit("*", 1)[-1], new=False, channel=channel)


def hit_of(req: UssdRequest) -> UssdHit:
    return UssdHit(
        phone=req.phone,
        session_id=req.session_id,
        # The same (sessionId, text) always gets the same screen: AT may repeat a request.
        message_id=f"{req.session_id}:{req.text}",
        inbound_id=f"{digest(req.session_id)}:{len(req.text)}",
        read=lambda own: latest_input(req.text, own),
        network=req.network_code or None,
    )


router = APIRouter(tags=["channels"])


@router.post(
    ROUTE,
    summary="Africa's Talking USSD screen",
    response_class=PlainTextResponse,
    responses={400: {"description": "Malformed request"}, 403: {"description": "Bad token"}},
)
async def ussd_africastalking(request: Request) -> Response:
    state = runtime(request)
    try:
        verify(request, state.settings)
        req = parse_payload(fields(await read_form(request)))
    except ChannelError as exc:
        return PlainTextResponse(exc.reason, status_code=exc.status)
    screen = await answer(state, hit_of(req))
    return PlainTextResponse(con_end(screen))
