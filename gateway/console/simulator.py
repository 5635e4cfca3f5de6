"""`/console/simulator`: one phone per registered channel (`gateway.simulate.PHONES`), driven
server-side through the gateway's real webhook routes, signed by the handsets' own code as the
providers sign. Beside the phone: the session JSON and the turn's log lines (already masked by
`gateway.logs`). Open without sign-in only in development (GATEWAY_CONSOLE_OPEN_SIMULATOR).

The simulator never reads a real family's data (issue #21): its handsets use only the
sandbox's demo phones, or the test numbers of GATEWAY_CONSOLE_SIMULATOR_PHONES; any other
number is refused, saying so, and audited. In production there is no simulator at all: it
would sign the providers' webhooks with the real secrets and queue real messages to real
phones (production also refuses to start with GATEWAY_CONSOLE_OPEN_SIMULATOR on).

A handset and its transcript live in this process's memory, keyed by a browser cookie; a
bounded number of them are kept (the least recently used go first).
"""

from __future__ import annotations

import contextvars
import logging
import secrets
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import anyio
import httpx
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from gateway.channels.common import same_secret
from gateway.console.lookup import NOT_A_PHONE
from gateway.console.web import ConsoleDenied, form_of, page, read_session, t_of
from gateway.deps import runtime
from gateway.dialogs.model import ChannelKind
from gateway.i18n import N_
from gateway.phones import to_e164
from gateway.settings import Env, Settings
from gateway.simulate import PHONES, REPLY_POLL_S, REPLY_WAIT_S, Inbox, Phone, SentMessage
from gateway.text import segments

__all__ = ["router"]

router = APIRouter(prefix="/console/simulator", include_in_schema=False)
SIM_COOKIE = "console_sim"
MAX_HANDSETS = 500
MAX_INPUT_CHARS = 2000
MAX_LOG_LINES = 40
# The sandbox's demo guardians (sandbox/demo.py): the only numbers a handset may use, with
# GATEWAY_CONSOLE_SIMULATOR_PHONES.
DEMO_PHONES = ("+212600000001", "+212600000002", "+212600000099", "+212700000001")
REFUSED = N_(
    "The simulator only talks as the demo phones or the test numbers "
    "(GATEWAY_CONSOLE_SIMULATOR_PHONES): this number is refused."
)

_capturing: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "console_sim_capture", default=None
)


class _Capture(logging.Handler):
    """Copies the lines of the current simulator turn, formatted (so redacted) as logged."""

    def __init__(self, formatter: logging.Formatter | None) -> None:
        super().__init__(logging.DEBUG)
        if formatter is not None:
            self.setFormatter(formatter)

    def emit(self, record: logging.LogRecord) -> None:
        lines = _capturing.get()
        if lines is not None and len(lines) < MAX_LOG_LINES:
            lines.append(self.format(record))


@dataclass
class Handset:
    phone: Phone
    inbox: Inbox
    entries: list[dict[str, Any]] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)
    started: bool = False


def open_to_all(settings: Settings) -> bool:
    if settings.env is Env.PRODUCTION:
        return False
    if settings.console_open_simulator is not None:
        return settings.console_open_simulator
    return settings.env is Env.DEVELOPMENT


def allowed_phone(settings: Settings, phone: str) -> bool:
    """Whether a handset may use `phone`: a demo phone, or one of the test numbers."""
    if phone in DEMO_PHONES:
        return True
    return any(
        phone.startswith(entry[:-1]) if entry.endswith("*") else phone == entry
        for entry in settings.console_simulator_phones
    )


async def _allowed(request: Request) -> None:
    settings: Settings = runtime(request).settings
    if settings.env is Env.PRODUCTION:
        raise ConsoleDenied(404, N_("There is no simulator in production."))
    operator, expired = await read_session(request)
    if operator is not None:
        request.state.console_operator = operator
    elif not open_to_all(settings):
        raise ConsoleDenied(401, "expired" if expired else "signin")


async def _refuse(request: Request, phone: str, channel: str) -> None:
    """Audit a refused number (at a bounded rate when nobody is signed in)."""
    audit = runtime(request).console.audit
    operator = getattr(request.state, "console_operator", None)
    if operator is not None:
        await audit.write(operator.name, "simulator_refused", phone=phone, detail=channel)
    else:
        await audit.write_bounded("anonymous", "simulator_refused", phone=phone, detail=channel)


def _handsets(request: Request) -> OrderedDict[tuple[str, str, str], Handset]:
    return runtime(request).console.handsets


def _choice(request: Request, values: dict[str, str]) -> tuple[str, str | None]:
    channel = values.get("channel", "")
    if channel not in PHONES:
        channel = "ussd" if "ussd" in PHONES else sorted(PHONES)[0]
    return channel, to_e164(values.get("phone", DEMO_PHONES[0])[:64])


def _client(request: Request) -> httpx.AsyncClient:
    settings: Settings = runtime(request).settings
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=request.app), base_url=settings.public_url, timeout=15
    )


def _entry(
    who: str, text: str, channel: str, screen: str, buttons: list[tuple[str, str]] | None = None
) -> dict[str, Any]:
    body = text
    ended = False
    if screen == "ussd" and who == "gateway" and text[:4] in ("CON ", "END "):
        ended, body = text.startswith("END"), text[4:]
    count = segments(body)
    return {
        "who": who,
        "text": body,
        "ended": ended,
        "chars": count.units,
        "encoding": "GSM-7" if count.encoding == "gsm7" else "UCS-2",
        "segments": count.segments,
        "channel": channel,
        "buttons": buttons or [],  # (id, label): a chat's buttons, list rows, inline keyboard
        "live": bool(buttons),  # only the newest message's buttons can still be tapped
    }


async def _show_replies(handset: Handset) -> None:
    """What the outbox sent the phone; a chat app's answer (sent by the outbox's worker after
    the turn) is awaited a few seconds, as `gateway.cli.simulate` does."""
    printed = await handset.inbox.show_new()
    with anyio.move_on_after(REPLY_WAIT_S if handset.phone.replies_later else 0):
        while not printed and handset.inbox.enabled:
            await anyio.sleep(REPLY_POLL_S)
            printed = await handset.inbox.show_new()


async def _run(request: Request, handset: Handset, action: Any) -> Any:
    """`action()` with the gateway's log lines of this turn captured beside the phone."""
    lines: list[str] = []
    root = logging.getLogger()
    capture = _Capture(root.handlers[0].formatter if root.handlers else None)
    token = _capturing.set(lines)
    root.addHandler(capture)
    try:
        return await action()
    finally:
        root.removeHandler(capture)
        _capturing.reset(token)
        handset.logs = lines


@router.get("", response_class=HTMLResponse)
async def simulator(request: Request) -> Response:
    await _allowed(request)
    channel, phone = _choice(request, dict(request.query_params))
    t = t_of(request)
    error = None if phone else t.gettext(NOT_A_PHONE)
    refused = phone is not None and not allowed_phone(runtime(request).settings, phone)
    if refused:
        await _refuse(request, phone or "", channel)
        phone, error = None, t.gettext(REFUSED)
    sim = request.cookies.get(SIM_COOKIE) or secrets.token_urlsafe(18)
    handset = _handsets(request).get((sim, channel, phone or ""))
    if handset is not None and handset.started:
        async with _client(request) as http:  # what the outbox sent since: shown on reload
            handset.inbox.http = http
            await handset.inbox.show_new()
    session_json = ""
    if phone is not None:
        kind = ChannelKind(PHONES[channel].session_channel)
        session = await runtime(request).sessions.load(kind, phone)
        session_json = session.model_dump_json(indent=2) if session else ""
    response = page(
        request,
        "simulator.html",
        channels=sorted(PHONES),
        channel=channel,
        screen=PHONES[channel].screen,
        shares_contact=PHONES[channel].shares_contact,
        phone=phone or "",
        demo_phones=DEMO_PHONES,
        handset=handset,
        session_json=session_json,
        sim_csrf=sim,
        error=error,
        status_code=403 if refused else 200,
    )
    response.set_cookie(SIM_COOKIE, sim, path="/console", httponly=True, samesite="strict")
    return response


@router.post("/send")
async def send(request: Request) -> Response:
    await _allowed(request)
    form = await form_of(request)
    sim = request.cookies.get(SIM_COOKIE, "")
    if not sim or not same_secret(form.get("csrf", ""), sim):
        raise ConsoleDenied(403, "This form has expired or was not sent from the console.")
    channel, phone = _choice(request, form)
    target = f"/console/simulator?channel={channel}&phone={quote(phone or '')}"
    if phone is None:
        return RedirectResponse(target, status_code=303)
    if not allowed_phone(runtime(request).settings, phone):
        await _refuse(request, phone, channel)
        raise ConsoleDenied(403, REFUSED)
    handsets = _handsets(request)
    key = (sim, channel, phone)
    text = form.get("text", "")[:MAX_INPUT_CHARS]
    pressed = form.get("press", "")[:64]
    async with _client(request) as http:
        handset = handsets.get(key)
        if handset is None or form.get("restart"):
            device = PHONES[channel](http, runtime(request).settings, phone)
            inbox = Inbox(http, runtime(request).settings, device.address, print)
            handset = Handset(device, inbox)
            handsets[key] = handset
            while len(handsets) > MAX_HANDSETS:
                handsets.popitem(last=False)
        handsets.move_to_end(key)
        device = handset.phone
        device.http = handset.inbox.http = http
        screen = type(device).screen

        drawn: list[SentMessage] = []

        def show(msg: SentMessage) -> str | None:
            drawn[:] = [msg]
            return device.show(msg)

        def out(line: str) -> None:
            buttons: list[tuple[str, str]] = list(getattr(device, "buttons", []))
            if screen == "chat" and drawn and drawn[0].text is not None:
                line = drawn[0].text  # the buttons are drawn as buttons, not as text
            if buttons:
                for old in handset.entries:
                    old["live"] = False
            handset.entries.append(_entry("outbox", line, channel, "thread", buttons))
            drawn.clear()

        handset.inbox.out = out
        handset.inbox.show = show
        if not handset.started:
            await handset.inbox.start()
            started = await device.start()
            if device.shares_contact and started:  # the handset's note, in the page's language
                shared = t_of(request).gettext("Contact shared: %(phone)s", phone=phone)
                started = [shared, *started[1:]]
            for line in started:
                handset.entries.append(_entry("phone", line, channel, screen))
            handset.started = True
        if form.get("share"):  # Telegram's "share my phone number": nothing typed yet
            await _show_replies(handset)
            return RedirectResponse(target, status_code=303)
        if pressed:
            labels = dict(getattr(device, "buttons", []))
            handset.entries.append(_entry("me", labels.get(pressed, pressed), channel, screen))
            reply = await _run(request, handset, lambda: device.press(pressed))
        else:
            if text or not device.dials_first:
                handset.entries.append(_entry("me", text, channel, screen))
            reply = await _run(request, handset, lambda: device.send(text))
        if reply:  # a chat app's answer comes through the outbox instead
            handset.entries.append(_entry("gateway", reply, channel, screen))
        await _show_replies(handset)
    return RedirectResponse(target, status_code=303)
