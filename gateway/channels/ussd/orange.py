"""An operator's xHTML USSD API, in the shape of Orange's "#303# My Store": `GET
/channels/ussd/orange?token=…` (CHANNELS.md §5, §15.A1).

The operator's back-end fetches our service URL over HTTPS on behalf of the phone, like a
browser, and shows the xHTML page we answer; following a link or submitting the form is the
next request. Each page's links and form carry the session (`sid`, minted on the first
request) and the step number (`n`), so a request names its screen and a repeat gets the
same page:

    GET /channels/ussd/orange?token=…                    X-MSISDN: +212600000001   (a dial)
    GET /channels/ussd/orange?token=…&sid=9f2c…&n=1&in=1                           (a link)

    <html xmlns="http://www.w3.org/1999/xhtml"><head><title>Massar</title></head><body>
    <p>Services Massar :</p><a href="…&amp;in=1" accesskey="1">Absences</a><br/>…
    <form action="/channels/ussd/orange" method="get">…<input type="text" name="in"/></form>
    </body></html>

A page with no link and no form is the last one. Only the outline is public
(https://developer.orange.com/apis/303mystore/getting-started: HTTPS GET, a subset of
xHTML, MSISDN in international format, no token of Orange's); the interface contract an
operator hands over after signing names the real header and fields: `X-MSISDN`, `sid`, `n`
and `in` here stand for them. The service URL registered with the operator carries
`GATEWAY_USSD_ORANGE_TOKEN`; unset, every request is refused (403).

This module and `tests/fixtures/orange_ussd/` are all a provider of this kind adds: the USSD
core does the rest.
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response

from gateway.channels.common import SignatureError, same_secret
from gateway.channels.ussd.core import Read, UssdHit, answer, refused
from gateway.deps import runtime
from gateway.dialogs.model import Screen, Session
from gateway.phones import to_e164
from gateway.settings import Settings

CHANNEL = "ussd_orange"
ROUTE = "/channels/ussd/orange"
MSISDN_HEADER = "x-msisdn"
XHTML = "application/xhtml+xml; charset=utf-8"
_SID_CHARS = frozenset("0123456789abcdef")


def verify(request: Request, settings: Settings) -> None:
    token = settings.ussd_orange_token
    given = request.query_params.get("token")
    if not same_secret(given, token.get_secret_value() if token else None):
        raise SignatureError("bad token")


def page(screen: Screen, *, token: str, sid: str, step: int) -> bytes:
    """The screen as an xHTML page: the options as links, a form for typed input."""
    html = ET.Element("html", xmlns="http://www.w3.org/1999/xhtml")
    ET.SubElement(ET.SubElement(html, "head"), "title").text = "Massar"
    body = ET.SubElement(html, "body")
    paragraph = ET.SubElement(body, "p")
    lines = screen.text.split("\n")
    paragraph.text = lines[0]
    for line in lines[1:]:
        ET.SubElement(paragraph, "br").tail = line
    if not screen.end:
        base = {"token": token, "sid": sid, "n": str(step + 1)}
        for option in screen.options:
            href = f"{ROUTE}?{urlencode({**base, 'in': option.key})}"
            ET.SubElement(body, "a", href=href, accesskey=option.key).text = option.label
            ET.SubElement(body, "br")
        form = ET.SubElement(body, "form", action=ROUTE, method="get")
        for name, value in base.items():
            ET.SubElement(form, "input", type="hidden", name=name, value=value)
        ET.SubElement(form, "input", type="text", name="in")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(html, "unicode")).encode()


router = APIRouter(tags=["channels"])


@router.get(
    ROUTE,
    summary="An operator's xHTML USSD page (#303#-style): a dial, a link or a form",
    response_class=Response,
    responses={
        200: {"description": "The screen as an xHTML page", "content": {XHTML: {}}},
        400: {"description": "No phone number in the request"},
        403: {"description": "Bad token"},
    },
)
async def ussd_orange(request: Request) -> Response:
    if (refusal := refused(request, verify)) is not None:
        return refusal
    phone = to_e164(request.headers.get(MSISDN_HEADER, ""))
    if phone is None:
        return PlainTextResponse("no phone number", status_code=400)
    query = request.query_params
    sid, step = query.get("sid", ""), query.get("n", "")
    if not (len(sid) == 32 and set(sid) <= _SID_CHARS and step.isdigit() and len(step) < 4):
        sid, step = uuid.uuid4().hex, "0"  # a dial (or a link that is not ours): a new session
    text = query.get("in", "") if step != "0" else ""

    def read(own: Session | None) -> Read:
        return Read(text=text, new=step == "0" or own is None)

    hit = UssdHit(phone=phone, session_id=sid, message_id=f"orange:{sid}:{step}", read=read)
    screen = await answer(runtime(request), hit, end_on_result=True)
    token = query.get("token", "")
    return Response(page(screen, token=token, sid=sid, step=int(step)), media_type=XHTML)
