"""Kannel sender (gateway/outbox/senders/kannel.py): the exact `sendsms` request, and how
each of smsbox's answers becomes a `Receipt` or a `SendError` (CHANNELS.md §14.3-4, §14.7).

smsbox is an `httpx.MockTransport`. Its answers are Kannel 1.4.5's own (Content-Type
text/html, the bodies of gw/smsbox.c); the 202, 403 "Authorization failed", 400 "Coding field
misformed" and 400 "denied by white- and/or black-lists" rows were seen from the Debian
package on this machine, the others are read from its source.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import structlog

from gateway.dialogs.model import Option
from gateway.outbox.model import MessageKind, OutChannel, OutMessage, Receipt, SendError, outbound
from gateway.outbox.senders.base import Sender
from gateway.outbox.senders.kannel import TIMEOUT, KannelSender
from gateway.settings import KannelRoute

pytestmark = pytest.mark.anyio

URL = "http://127.0.0.1:13013/cgi-bin/sendsms"
USER = "massar"
PASSWORD = "test-kannel-sendsms-password"
TOKEN = "test-kannel-callback-token"
DLR_URL = f"https://gw.example.ma/channels/sms/kannel/dlr?token={TOKEN}"
SHORT_CODE = "2020"
TO = "+212600000001"
MSG_ID = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
ROUTES = (
    KannelRoute("+21266", "IAM", None),
    KannelRoute("+2126610", "IAM2", "2021"),  # a longer prefix wins
    KannelRoute("+21270", "INWI", "3030"),
)

Outcome = Receipt | SendError
Answer = Callable[[httpx.Request], httpx.Response]


def message(text: str = "Absences cette semaine : 2", **changes: object) -> OutMessage:
    msg = outbound(
        MessageKind.REPLY,
        key="alert:absence:stu_01HZX3M2:2025-12-02",
        channel=OutChannel.SMS,
        to=TO,
        text=text,
        now=datetime(2025, 12, 2, 13, 37, tzinfo=UTC),
        message_id=MSG_ID,
    )
    return replace(msg, **changes)  # type: ignore[arg-type]


@dataclass
class FakeSmsbox:
    answer: Answer
    requests: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.answer(request)


def kannel(status: int, body: str) -> Answer:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, text=body, headers={"Content-Type": "text/html"})

    return answer


ACCEPTED = kannel(202, "0: Accepted for delivery")


def fails(exc: type[httpx.TransportError]) -> Answer:
    def answer(request: httpx.Request) -> httpx.Response:
        raise exc("mocked", request=request)

    return answer


def sender(http: httpx.AsyncClient, **overrides: object) -> KannelSender:
    settings: dict[str, object] = {
        "url": URL,
        "username": USER,
        "password": PASSWORD,
        "sender": SHORT_CODE,
        "dlr_url": DLR_URL,
        "http": http,
        "routes": ROUTES,
        **overrides,
    }
    return KannelSender(**settings)  # type: ignore[arg-type]


async def send_through(
    answer: Answer, msg: OutMessage, **overrides: object
) -> tuple[Outcome, list[httpx.Request]]:
    fake = FakeSmsbox(answer)
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake)) as http:
        kannel_sender: Sender = sender(http, **overrides)
        try:
            outcome: Outcome = await kannel_sender.send(msg)
        except SendError as exc:
            outcome = exc
        await kannel_sender.aclose()
    return outcome, fake.requests


@dataclass(frozen=True)
class Row:
    label: str
    answer: Answer
    expected: Outcome


def err(code: str, retryable: bool) -> SendError:
    return SendError(code, retryable=retryable)


RECEIPT = Receipt(provider_id=f"kannel:{MSG_ID}")
ANSWERS = [
    Row("202 accepted for delivery", ACCEPTED, RECEIPT),
    Row(
        "202 queued for later (operator link down)",
        kannel(202, "3: Queued for later delivery"),
        RECEIPT,
    ),
    Row("202 sent (immediate-sendsms-reply)", kannel(202, "Sent."), RECEIPT),
    Row("503 queue full", kannel(503, "Temporal failure, try again later."), err("http:503", True)),
    Row("500 sending failed", kannel(500, "Sending failed."), err("http:500", True)),
    Row("429 from a proxy in front", kannel(429, "slow down"), err("http:429", True)),
    Row(
        "403 bad credentials",
        kannel(403, "Authorization failed for sendsms"),
        err("kannel:auth", False),
    ),
    Row(
        "403 not routable",
        kannel(403, "Not routable. Do not try again."),
        err("kannel:not_routable", False),
    ),
    Row(
        "400 number denied",
        kannel(400, "Number(s) has/have been denied by white- and/or black-lists."),
        err("kannel:denied", False),
    ),
    Row(
        "400 coding misformed",
        kannel(400, "Coding field misformed, rejected"),
        err("kannel:coding", False),
    ),
    Row(
        "400 no sender",
        kannel(400, "Sender missing and no global set, rejected"),
        err("kannel:no_sender", False),
    ),
    Row(
        "400 charset (a Kannel built without iconv)",
        kannel(400, "Charset or body misformed, rejected"),
        err("kannel:charset", False),
    ),
    Row(
        "400 DLR URL misformed",
        kannel(400, "DLR-URL field misformed, rejected"),
        err("kannel:dlr_url", False),
    ),
    Row("404 wrong sendsms-url", kannel(404, "Unknown request."), err("http:404", False)),
    Row("400 an answer Kannel never gives", kannel(400, "?"), err("http:400", False)),
]


@pytest.mark.parametrize("row", ANSWERS, ids=lambda row: row.label)
async def test_each_answer_becomes_a_receipt_or_a_classified_error(row: Row) -> None:
    outcome, requests = await send_through(row.answer, message())
    assert len(requests) == 1  # the sender never retries on its own: the outbox does
    if isinstance(row.expected, Receipt):
        assert outcome == row.expected
        return
    assert isinstance(outcome, SendError), outcome
    assert (outcome.code, outcome.retryable) == (row.expected.code, row.expected.retryable)


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (httpx.ConnectError, "connect"),  # smsbox down or not listening
        (httpx.ConnectTimeout, "timeout"),
        (httpx.ReadTimeout, "timeout"),
        (httpx.ReadError, "transport"),
        (httpx.RemoteProtocolError, "transport"),
    ],
    ids=lambda value: value if isinstance(value, str) else value.__name__,
)
async def test_transport_failures_are_retryable(exc: type[httpx.TransportError], code: str) -> None:
    outcome, requests = await send_through(fails(exc), message())
    assert isinstance(outcome, SendError)
    assert (outcome.code, outcome.retryable) == (code, True)
    assert len(requests) == 1


async def test_the_request_is_kannels_sendsms_post() -> None:
    options = (
        Option(key="1", id="detail", label="Details"),
        Option(key="0", id="menu", label="Menu"),
    )
    outcome, (request,) = await send_through(ACCEPTED, message(options=options))
    assert outcome == RECEIPT
    assert request.method == "POST"
    assert str(request.url) == URL  # nothing in the URL: no password, no number, no text
    assert request.content == b"Absences cette semaine : 2\n1. Details\n0. Menu"
    headers = {k.lower(): v for k, v in request.headers.items() if k.lower().startswith("x-")}
    assert headers == {
        "x-kannel-username": USER,
        "x-kannel-password": PASSWORD,
        "x-kannel-from": SHORT_CODE,
        "x-kannel-to": TO,
        "x-kannel-coding": "0",
        "x-kannel-dlr-mask": "31",
        "x-kannel-dlr-url": f"{DLR_URL}&msg={MSG_ID}&status=%d&smsc=%i",
    }
    assert request.headers["content-type"] == "text/plain; charset=UTF-8"
    assert request.extensions["timeout"] == {
        "connect": TIMEOUT.connect,
        "read": TIMEOUT.read,
        "write": TIMEOUT.write,
        "pool": TIMEOUT.pool,
    }


async def test_the_dlr_url_names_our_message_and_leaves_the_status_and_link_to_kannel() -> None:
    _, (request,) = await send_through(ACCEPTED, message())
    url = urlsplit(request.headers["x-kannel-dlr-url"])
    assert url.path == "/channels/sms/kannel/dlr"
    assert parse_qs(url.query) == {
        "token": [TOKEN],
        "msg": [MSG_ID],
        "status": ["%d"],
        "smsc": ["%i"],
    }


@pytest.mark.parametrize(
    ("text", "coding"),
    [
        pytest.param("Absences : 2 jours, à vérifier", "0", id="french-in-gsm7"),
        pytest.param("Reçu", "2", id="c-cedilla-is-not-gsm7"),
        pytest.param("غياب ابنكم يوسف: يومان", "2", id="arabic"),
        pytest.param("Notes [S1] ~ 14,5 €", "0", id="gsm7-extension-table"),
    ],
)
async def test_text_outside_gsm7_goes_as_ucs2_in_utf8(text: str, coding: str) -> None:
    _, (request,) = await send_through(ACCEPTED, message(text))
    assert request.headers["x-kannel-coding"] == coding
    assert request.content == text.encode("utf-8")  # Kannel converts (charset=UTF-8)


@pytest.mark.parametrize(
    ("to", "origin", "expected"),
    [
        pytest.param("+212661234567", {}, ("2020", "IAM"), id="prefix-route-default-sender"),
        pytest.param("+212661012345", {}, ("2021", "IAM2"), id="longest-prefix-wins"),
        pytest.param("+212700000001", {}, ("3030", "INWI"), id="prefix-route-own-sender"),
        pytest.param("+212600000001", {}, ("2020", None), id="no-route-kannel-chooses"),
        pytest.param(
            "+212661234567",
            {"sender_id": "3030", "route": "INWI"},
            ("3030", "INWI"),
            id="a-reply-leaves-where-its-sms-came-in",
        ),
        pytest.param(
            "+212700000001", {"sender_id": "2020"}, ("2020", "INWI"), id="reply-without-link"
        ),
    ],
)
async def test_operator_routing_by_prefix_or_by_the_sms_answered(
    to: str, origin: dict[str, str], expected: tuple[str, str | None]
) -> None:
    _, (request,) = await send_through(ACCEPTED, message(to=to, **origin))
    assert request.headers["x-kannel-to"] == to
    assert (request.headers["x-kannel-from"], request.headers.get("x-kannel-smsc")) == expected


async def test_a_default_link_applies_to_numbers_no_route_names() -> None:
    _, (request,) = await send_through(ACCEPTED, message(), smsc="FAKE", routes=())
    assert request.headers["x-kannel-smsc"] == "FAKE"


@pytest.mark.parametrize(
    ("text", "max_parts", "expected"),
    [
        pytest.param("x" * 918, 6, None, id="six-gsm7-parts-fit"),
        pytest.param("x" * 919, 6, "too_long", id="seven-gsm7-parts"),
        pytest.param("ب" * 134, 2, None, id="two-ucs2-parts-fit"),
        pytest.param("ب" * 135, 2, "too_long", id="three-ucs2-parts"),
        pytest.param("", 6, "empty", id="empty"),
    ],
)
async def test_a_text_kannel_would_cut_is_refused_not_sent(
    text: str, max_parts: int, expected: str | None
) -> None:
    outcome, requests = await send_through(ACCEPTED, message(text), max_parts=max_parts)
    if expected is None:
        assert outcome == RECEIPT
        assert len(requests) == 1
    else:
        assert isinstance(outcome, SendError)
        assert (outcome.code, outcome.retryable) == (expected, False)
        assert requests == []


async def test_no_phone_number_text_or_password_reaches_logs_or_errors() -> None:
    text = "Youssef: 2 absences"
    with structlog.testing.capture_logs() as logs:
        ok, _ = await send_through(ACCEPTED, message(text))
        failed, _ = await send_through(
            kannel(403, "Authorization failed for sendsms"), message(text)
        )
    assert isinstance(ok, Receipt)
    assert isinstance(failed, SendError)
    assert [entry["event"] for entry in logs] == ["kannel_sms_accepted", "kannel_sms_failed"]
    assert logs[1]["code"] == "kannel:auth"
    assert logs[1]["http_status"] == 403
    written = repr(logs) + repr(failed) + str(failed)
    for secret in (TO, TO.removeprefix("+"), text, PASSWORD, TOKEN):
        assert secret not in written


async def test_repr_and_aclose_keep_the_password_and_the_shared_client() -> None:
    async with httpx.AsyncClient() as http:
        kannel_sender = sender(http)
        await kannel_sender.aclose()
        assert not http.is_closed
    assert PASSWORD not in repr(kannel_sender)


@pytest.mark.parametrize("missing", ["url", "username", "password", "sender", "dlr_url"])
async def test_an_empty_setting_is_refused_at_construction(missing: str) -> None:
    async with httpx.AsyncClient() as http:
        with pytest.raises(ValueError, match=missing):
            sender(http, **{missing: ""})
