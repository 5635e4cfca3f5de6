"""The terminal phone shows what the gateway sent it (`GET /admin/messages?to=`): each new
message once, oldest first, after the screen of the turn that caused it; a gateway without the
route, or one that does not answer, leaves the conversation alone."""

from __future__ import annotations

import io
import itertools
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from gateway.cli.simulate import converse
from gateway.settings import Settings
from gateway.simulate import MESSAGES_ROUTE, SMS_ROUTE, USSD_ROUTE
from tests.gateway.conftest import gateway_settings

PHONE = "+212600000001"
ADMIN_TOKEN = "test-admin-token"
URL = "http://gateway.test"


class FakeGateway:
    """Answers the two channel routes with `screen <input>` and lists the messages it holds.

    A turn whose input is in `queues` records those messages, as the outbox records the
    follow-ups a turn sends. `/admin/messages` wants the admin token, as the real route does.
    """

    def __init__(self, *, messages_route: bool = True, unreachable_for: int = 0) -> None:
        self.messages_route = messages_route
        self.unreachable_for = unreachable_for  # how many asks for messages fail to connect
        self.messages: list[dict[str, Any]] = []  # oldest first
        self.queues: dict[str, list[dict[str, Any]]] = {}
        self.admin_requests: list[httpx.Request] = []
        self.ids = itertools.count(1)

    def record(self, text: str | None, *, to: str = PHONE, **fields: Any) -> dict[str, Any]:
        msg = {
            "id": f"m{next(self.ids):03d}",
            "channel": "sms",
            "to": to,
            "text": text,
            "options": [],
            "status": "queued",
            "created_at": "2026-12-02T14:15:03+00:00",
            **fields,
        }
        self.messages.append(msg)
        return msg

    def on_turn(self, text: str, *messages: dict[str, Any]) -> None:
        """`messages` (built with `message`) are recorded when the phone sends `text`."""
        self.queues[text] = list(messages)

    def message(self, text: str | None, **fields: Any) -> dict[str, Any]:
        msg = self.record(text, **fields)
        self.messages.remove(msg)
        return msg

    async def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == SMS_ROUTE:
            (text,) = parse_qs(request.content.decode())["Body"]
            self.messages.extend(self.queues.pop(text, []))
            twiml = f"<Response><Message>screen {text}</Message></Response>"
            return httpx.Response(200, text=twiml, headers={"content-type": "application/xml"})
        if path == USSD_ROUTE:
            return httpx.Response(200, text="CON menu")
        if path == MESSAGES_ROUTE and self.messages_route:
            self.admin_requests.append(request)
            if len(self.admin_requests) <= self.unreachable_for:
                raise httpx.ConnectError("connection refused", request=request)
            auth = request.headers.get("authorization", "")
            if not auth.startswith("Bearer "):
                return httpx.Response(401)
            if auth != f"Bearer {ADMIN_TOKEN}":
                return httpx.Response(403)
            to = request.url.params["to"]
            items = [m for m in reversed(self.messages) if m["to"] == to]
            return httpx.Response(200, json={"items": items})
        return httpx.Response(404, json={"detail": "Not Found"})


def _settings(tmp_path: Path, admin_token: str = ADMIN_TOKEN) -> Settings:
    return gateway_settings(tmp_path, None, admin_token=admin_token)


async def _talk(
    fake: FakeGateway,
    settings: Settings,
    lines: str | io.StringIO,
    *,
    channel: str = "sms",
    poll_s: float = 60.0,  # the background poll stays out of the way unless a test wants it
) -> list[str]:
    printed: list[str] = []
    await converse(
        channel,
        PHONE,
        url=URL,
        settings=settings,
        lines=io.StringIO(lines) if isinstance(lines, str) else lines,
        out=printed.append,
        transport=httpx.MockTransport(fake.handle),
        poll_s=poll_s,
    )
    return printed


@pytest.mark.anyio
async def test_messages_a_turn_queues_appear_once_in_order_after_its_screen(
    tmp_path: Path,
) -> None:
    fake = FakeGateway()
    fake.record("an alert from last week")
    fake.record("for another phone", to="+212600000002")
    fake.on_turn(
        "ABS",
        fake.message(
            "Youssef: 2 absences",
            options=[{"id": "abs", "label": "Absences"}, {"id": "menu", "label": "Menu"}],
        ),
        fake.message("Salma: no absence"),
    )
    printed = await _talk(fake, _settings(tmp_path), "ABS\nAIDE\n")
    assert printed == [
        "> ABS",
        "screen ABS",
        "[SMS] Youssef: 2 absences\n1. Absences\n2. Menu",
        "[SMS] Salma: no absence",
        "> AIDE",
        "screen AIDE",
    ]


@pytest.mark.anyio
async def test_the_simulator_asks_for_its_phone_with_the_admin_token(tmp_path: Path) -> None:
    fake = FakeGateway()
    await _talk(fake, _settings(tmp_path), "AIDE\n")
    assert fake.admin_requests  # at start and after the turn
    for request in fake.admin_requests:
        assert request.headers["authorization"] == f"Bearer {ADMIN_TOKEN}"
        assert request.url.params["to"] == PHONE


@pytest.mark.anyio
async def test_another_admin_token_costs_one_note_and_no_more_asking(tmp_path: Path) -> None:
    fake = FakeGateway()
    fake.on_turn("ABS", fake.message("Youssef: 2 absences"))
    printed = await _talk(fake, _settings(tmp_path, admin_token="not-the-token"), "ABS\nAIDE\n")
    assert printed == [
        f"(messages not shown: {MESSAGES_ROUTE} answered 403)",
        "> ABS",
        "screen ABS",
        "> AIDE",
        "screen AIDE",
    ]
    assert len(fake.admin_requests) == 1


@pytest.mark.anyio
async def test_a_gateway_without_the_messages_route_leaves_the_conversation_alone(
    tmp_path: Path,
) -> None:
    fake = FakeGateway(messages_route=False)
    printed = await _talk(fake, _settings(tmp_path), "ABS\nAIDE\n")
    assert printed == [
        f"(messages not shown: {MESSAGES_ROUTE} answered 404)",
        "> ABS",
        "screen ABS",
        "> AIDE",
        "screen AIDE",
    ]


@pytest.mark.anyio
async def test_a_gateway_that_does_not_answer_for_messages_costs_one_note(
    tmp_path: Path,
) -> None:
    fake = FakeGateway(unreachable_for=1000)
    printed = await _talk(fake, _settings(tmp_path), "ABS\nAIDE\n")
    assert printed == [
        "(messages: the gateway did not answer, ConnectError)",
        "> ABS",
        "screen ABS",
        "> AIDE",
        "screen AIDE",
    ]
    assert len(fake.admin_requests) == 3  # still asked after each turn, in case it comes back


@pytest.mark.anyio
async def test_when_the_start_went_unanswered_the_first_answer_stands_for_the_old_messages(
    tmp_path: Path,
) -> None:
    fake = FakeGateway(unreachable_for=1)
    fake.on_turn("ABS", fake.message("queued before the gateway answered"))
    fake.on_turn("AIDE", fake.message("queued after"))
    printed = await _talk(fake, _settings(tmp_path), "ABS\nAIDE\n")
    assert printed == [
        "(messages: the gateway did not answer, ConnectError)",
        "> ABS",
        "screen ABS",
        "> AIDE",
        "screen AIDE",
        "[SMS] queued after",
    ]


@pytest.mark.anyio
async def test_a_failed_message_is_a_short_note_and_an_expired_one_is_not_shown(
    tmp_path: Path,
) -> None:
    fake = FakeGateway()
    fake.on_turn(
        "ABS",
        fake.message("Youssef: 2 absences", status="failed"),
        fake.message(None, status="delivered"),
        fake.message("Salma: no absence", status="delivered"),
    )
    printed = await _talk(fake, _settings(tmp_path), "ABS\n")
    assert printed == ["> ABS", "screen ABS", "[SMS not delivered]", "[SMS] Salma: no absence"]
    assert "Youssef" not in "\n".join(printed)


class _WaitingUser(io.StringIO):
    """Reads nothing while a message comes (the sender worker's follow-up), then hangs up."""

    def __init__(self, fake: FakeGateway, printed: list[str]) -> None:
        super().__init__()
        self.fake, self.printed = fake, printed

    def readline(self, size: int | None = -1) -> str:  # type: ignore[override]
        self.fake.record("your marks are ready")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len(self.printed) < 2:
            time.sleep(0.01)
        return ""


@pytest.mark.anyio
async def test_a_message_that_comes_while_the_user_waits_is_shown(tmp_path: Path) -> None:
    fake = FakeGateway()
    printed: list[str] = []
    await converse(
        "ussd",
        PHONE,
        url=URL,
        settings=_settings(tmp_path),
        lines=_WaitingUser(fake, printed),
        out=printed.append,
        transport=httpx.MockTransport(fake.handle),
        poll_s=0.05,
    )
    assert printed == ["CON menu", "[SMS] your marks are ready"]
