"""Twilio SMS sender (gateway/outbox/senders/twilio.py): the request the SDK builds, and how
each answer of Twilio's becomes a `Receipt` or a `SendError` (CHANNELS.md §1, §7, §9, §10).

Twilio is an `httpx.MockTransport`: each table row is one HTTP answer, 201 bodies recorded in
`tests/fixtures/twilio/rest/`, error bodies inline in Twilio's shape
`{"code", "message", "more_info", "status"}` with Twilio's own wording.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import structlog

from gateway.channels.twilio_sms import STATUS_ROUTE
from gateway.dialogs.model import Option
from gateway.outbox.model import MessageKind, OutChannel, OutMessage, Receipt, SendError, outbound
from gateway.outbox.senders.base import Sender
from gateway.outbox.senders.twilio import TIMEOUT, TwilioSmsSender, retry_after_s

pytestmark = pytest.mark.anyio

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "twilio" / "rest"
ACCOUNT_SID = "AC00000000000000000000000000000042"
AUTH_TOKEN = "test-twilio-auth-token"
ALPHA_SENDER = "MASSAR"  # alphanumeric sender ID: Moroccan SMS from Twilio go out under one
NUMBER_SENDER = "+212500000000"
SERVICE_SID = "MG0f1e2d3c4b5a69788796a5b4c3d2e1f0"
PUBLIC_URL = "https://gateway.example.ma"
STATUS_CALLBACK = PUBLIC_URL + STATUS_ROUTE
MESSAGES_URL = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
TO = "+212600000001"
CREATED_SID = "SM6a7b8c9d0e1f20314253647586970a1b"  # rest/message_created.json
ACCEPTED_SID = "SM7b8c9d0e1f20314253647586970a1b2c"  # rest/message_accepted.json

Outcome = Receipt | SendError
Answer = Callable[[httpx.Request], httpx.Response]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def recorded(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


def message(
    text: str = "Absences cette semaine : 2", options: tuple[Option, ...] = ()
) -> OutMessage:
    return outbound(
        MessageKind.REPLY,
        key="alert:absence:stu_01HZX3M2:2025-12-02",
        channel=OutChannel.SMS,
        to=TO,
        text=text,
        options=options,
        now=datetime(2025, 12, 2, 13, 37, tzinfo=UTC),
        message_id="0f1e2d3c4b5a69788796a5b4c3d2e1f0",
    )


def twilio_error(status: int, code: int, text: str) -> dict[str, Any]:
    """An error body as Twilio's 2010 API writes it."""
    return {
        "code": code,
        "message": text,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


@dataclass
class FakeTwilio:
    """Answers every request with `answer` and keeps what it was sent."""

    answer: Answer
    requests: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.answer(request)


def reply(status: int, body: object = None, headers: dict[str, str] | None = None) -> Answer:
    def answer(request: httpx.Request) -> httpx.Response:
        if isinstance(body, str | bytes):
            return httpx.Response(status, content=body, headers=headers)
        return httpx.Response(status, json=body, headers=headers)

    return answer


def fails(exc: type[httpx.TransportError]) -> Answer:
    def answer(request: httpx.Request) -> httpx.Response:
        raise exc("mocked", request=request)

    return answer


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


async def send_through(
    answer: Answer, msg: OutMessage, *, sender: str = ALPHA_SENDER
) -> tuple[Outcome, list[httpx.Request]]:
    """One send against a fake Twilio; the Receipt or the SendError, and the requests made."""
    fake = FakeTwilio(answer)
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake)) as http:
        twilio: Sender = TwilioSmsSender(
            account_sid=ACCOUNT_SID,
            auth_token=AUTH_TOKEN,
            sender=sender,
            status_callback=STATUS_CALLBACK,
            http=http,
        )
        try:
            outcome: Outcome = await twilio.send(msg)
        except SendError as exc:
            outcome = exc
        await twilio.aclose()
    return outcome, fake.requests


def form(request: httpx.Request) -> dict[str, list[str]]:
    return parse_qs(request.content.decode("ascii"), keep_blank_values=True, strict_parsing=True)


@dataclass(frozen=True)
class Row:
    label: str
    answer: Answer
    expected: Outcome


def err(code: str, retryable: bool, retry_after_s: float | None = None) -> SendError:
    return SendError(code, retryable=retryable, retry_after_s=retry_after_s)


ANSWERS = [
    Row("201 queued", reply(201, recorded("message_created")), Receipt(provider_id=CREATED_SID)),
    Row(
        "429 with Retry-After",
        reply(429, twilio_error(429, 20429, "Too Many Requests"), {"Retry-After": "30"}),
        err("http:429", True, 30.0),
    ),
    Row(
        "429 without Retry-After",
        reply(429, twilio_error(429, 20429, "Too Many Requests")),
        err("http:429", True),
    ),
    Row(
        "500 internal error",
        reply(500, twilio_error(500, 20500, "An internal server error has occurred")),
        err("http:500", True),
    ),
    Row(
        "503 from an edge proxy, HTML, with Retry-After",
        reply(
            503,
            "<html><body><h1>503 Service Unavailable</h1></body></html>",
            {"Content-Type": "text/html", "Retry-After": "120"},
        ),
        err("http:503", True, 120.0),
    ),
    Row(
        "400 invalid To",
        reply(400, twilio_error(400, 21211, f"The 'To' number {TO} is not a valid phone number.")),
        err("twilio:21211", False),
    ),
    Row(
        "400 opted out",
        reply(400, twilio_error(400, 21610, "Attempt to send to unsubscribed recipient")),
        err("twilio:21610", False),
    ),
    Row(
        "400 not a mobile",
        reply(400, twilio_error(400, 21614, f"To number: {TO}, is not a mobile number")),
        err("twilio:21614", False),
    ),
    Row(
        "400 region not enabled",
        reply(
            400,
            twilio_error(
                400,
                21408,
                "Permission to send an SMS has not been enabled for the region indicated by "
                f"the 'To' number: {TO}.",
            ),
            # A hint on a permanent error changes nothing: it is not retried.
            {"Retry-After": "5"},
        ),
        err("twilio:21408", False),
    ),
    Row(
        "401 authentication",
        reply(401, twilio_error(401, 20003, "Authenticate")),
        err("twilio:20003", False),
    ),
    Row(
        "404 without a Twilio body",
        reply(404, "Not Found", {"Content-Type": "text/plain"}),
        err("http:404", False),
    ),
    Row(
        "201 without a sid",
        reply(201, {k: v for k, v in recorded("message_created").items() if k != "sid"}),
        err("bad_response", False),
    ),
    Row(
        "201 with an empty sid",
        reply(201, {**recorded("message_created"), "sid": ""}),
        err("bad_response", False),
    ),
    Row(
        "200 that is not JSON",
        reply(200, "<html>captive portal</html>", {"Content-Type": "text/html"}),
        err("bad_response", False),
    ),
    Row(
        "201 with a JSON list",
        reply(201, [recorded("message_created")]),
        err("bad_response", False),
    ),
]


@pytest.mark.parametrize("row", ANSWERS, ids=lambda row: row.label)
async def test_each_answer_becomes_a_receipt_or_a_classified_error(row: Row) -> None:
    outcome, requests = await send_through(row.answer, message())
    assert len(requests) == 1  # the sender never retries on its own: the outbox does
    if isinstance(row.expected, Receipt):
        assert outcome == row.expected
        return
    assert isinstance(outcome, SendError), outcome
    assert (outcome.code, outcome.retryable, outcome.retry_after_s) == (
        row.expected.code,
        row.expected.retryable,
        row.expected.retry_after_s,
    )


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (httpx.ConnectError, "connect"),
        (httpx.ConnectTimeout, "timeout"),
        (httpx.ReadTimeout, "timeout"),
        (httpx.PoolTimeout, "timeout"),
        (httpx.ReadError, "transport"),
        (httpx.RemoteProtocolError, "transport"),
    ],
    ids=lambda value: value if isinstance(value, str) else value.__name__,
)
async def test_transport_failures_are_retryable(exc: type[httpx.TransportError], code: str) -> None:
    outcome, requests = await send_through(fails(exc), message())
    assert isinstance(outcome, SendError)
    assert (outcome.code, outcome.retryable, outcome.retry_after_s) == (code, True, None)
    assert isinstance(outcome.__cause__, exc)  # kept for the operator: no personal data in it
    assert len(requests) == 1


async def test_the_request_is_the_one_twilio_documents() -> None:
    options = (
        Option(key="1", id="detail", label="Details"),
        Option(key="0", id="menu", label="Menu"),
    )
    outcome, requests = await send_through(
        reply(201, recorded("message_created")), message(options=options)
    )
    assert outcome == Receipt(provider_id=CREATED_SID)
    (request,) = requests
    assert request.method == "POST"
    assert str(request.url) == MESSAGES_URL
    credentials = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    assert request.headers["Authorization"] == f"Basic {credentials}"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert request.headers["Accept"] == "application/json"
    assert request.headers["User-Agent"].startswith("twilio-python/")  # built by the SDK
    assert form(request) == {
        "To": [TO],
        "From": [ALPHA_SENDER],
        "Body": ["Absences cette semaine : 2\n1. Details\n0. Menu"],
        "StatusCallback": [STATUS_CALLBACK],
    }
    assert request.extensions["timeout"] == {
        "connect": TIMEOUT.connect,
        "read": TIMEOUT.read,
        "write": TIMEOUT.write,
        "pool": TIMEOUT.pool,
    }


@pytest.mark.parametrize(
    ("sender", "fields"),
    [
        (SERVICE_SID, {"MessagingServiceSid": [SERVICE_SID]}),
        (NUMBER_SENDER, {"From": [NUMBER_SENDER]}),
        (ALPHA_SENDER, {"From": [ALPHA_SENDER]}),
    ],
    ids=["messaging-service", "e164-number", "alphanumeric-id"],
)
async def test_the_sender_setting_picks_from_or_messaging_service(
    sender: str, fields: dict[str, list[str]]
) -> None:
    outcome, (request,) = await send_through(
        reply(201, recorded("message_accepted")), message(), sender=sender
    )
    assert outcome == Receipt(provider_id=ACCEPTED_SID)
    sent = form(request)
    assert {k: v for k, v in sent.items() if k in {"From", "MessagingServiceSid"}} == fields


async def test_arabic_text_reaches_the_form_as_utf8() -> None:
    text = "غياب ابنكم يوسف: يومان هذا الأسبوع"
    options = (
        Option(key="1", id="detail", label="التفاصيل"),
        Option(key="0", id="menu", label="القائمة"),
    )
    _, (request,) = await send_through(
        reply(201, recorded("message_created")), message(text, options)
    )
    body = f"{text}\n1. التفاصيل\n0. القائمة"
    assert form(request)["Body"] == [body]
    # Percent-encoded UTF-8 on the wire ("غ" is D8 BA), not some other charset.
    assert b"Body=%D8%BA%D9%8A%D8%A7%D8%A8+" in request.content


async def test_no_phone_number_or_text_reaches_logs_or_errors() -> None:
    text = "Youssef: 2 absences"
    invalid_to = twilio_error(400, 21211, f"The 'To' number {TO} is not a valid phone number.")
    with structlog.testing.capture_logs() as logs:
        ok, _ = await send_through(reply(201, recorded("message_created")), message(text))
        failed, _ = await send_through(reply(400, invalid_to), message(text))
    assert isinstance(ok, Receipt)
    assert isinstance(failed, SendError)
    assert [entry["event"] for entry in logs] == ["twilio_sms_accepted", "twilio_sms_failed"]
    assert logs[1]["code"] == "twilio:21211"
    assert logs[1]["http_status"] == 400
    written = repr(logs) + repr(failed) + str(failed)
    for secret in (TO, TO.removeprefix("+"), text, AUTH_TOKEN):
        assert secret not in written
    # Twilio's message quotes the number: the SDK's exception is not chained into ours.
    assert failed.__cause__ is None
    assert failed.__suppress_context__


async def test_aclose_leaves_the_shared_client_open(http: httpx.AsyncClient) -> None:
    sender = TwilioSmsSender(
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        sender=ALPHA_SENDER,
        status_callback=STATUS_CALLBACK,
        http=http,
    )
    await sender.aclose()
    assert not http.is_closed
    assert AUTH_TOKEN not in repr(sender)


@pytest.mark.parametrize("missing", ["account_sid", "auth_token", "sender", "status_callback"])
async def test_an_empty_setting_is_refused_at_construction(
    missing: str, http: httpx.AsyncClient
) -> None:
    settings = {
        "account_sid": ACCOUNT_SID,
        "auth_token": AUTH_TOKEN,
        "sender": ALPHA_SENDER,
        "status_callback": STATUS_CALLBACK,
    } | {missing: ""}
    with pytest.raises(ValueError, match=missing):
        TwilioSmsSender(
            account_sid=settings["account_sid"],
            auth_token=settings["auth_token"],
            sender=settings["sender"],
            status_callback=settings["status_callback"],
            http=http,
        )


NOW = datetime(2025, 12, 2, 13, 37, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (None, None),
        ("30", 30.0),
        (" 0 ", 0.0),
        ("Tue, 02 Dec 2025 13:38:00 GMT", 60.0),
        ("Tue, 02 Dec 2025 13:30:00 GMT", 0.0),  # already past
        ("-5", None),
        ("1.5", None),  # delta-seconds are whole (RFC 9110 §10.2.3)
        ("nan", None),
        ("٣٠", None),  # Arabic-Indic digits are not HTTP
        ("soon", None),
    ],
)
def test_retry_after_reads_seconds_or_a_date(value: str | None, seconds: float | None) -> None:
    assert retry_after_s(value, NOW) == seconds
