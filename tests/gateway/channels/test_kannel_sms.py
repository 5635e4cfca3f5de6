"""Kannel adapter: SMS from operators (`/channels/sms/kannel`) and delivery reports
(`/channels/sms/kannel/dlr`), CHANNELS.md §14.2, §14.4, §14.7.

Requests are replayed from `tests/fixtures/kannel/`, recorded from a running Kannel 1.4.5
(method, raw query, headers, body bytes), with this test's token in place of the recorded
placeholder. The gateway's sender worker is off, so each reply stays in the outbox's
interactive stream, where the tests read it.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
import pytest
import structlog
from fastapi.testclient import TestClient

from gateway.app import create_app
from gateway.channels import kannel_sms
from gateway.channels.common import PayloadError
from gateway.deps import runtime_of
from gateway.outbox.entries import decode
from gateway.outbox.model import MessageKind, OutChannel, OutMessage, outbound
from gateway.state.outbox.priority import Priority
from gateway.state.outbox.records import Outcome
from tests.databases import migrated
from tests.gateway.channels.conftest import (
    FIXTURES,
    HeldBackend,
    lang_of,
    send_twice_while_the_first_waits,
    total,
)
from tests.gateway.conftest import PUBLIC_URL, gateway_settings

ROUTE = kannel_sms.ROUTE
DLR_ROUTE = kannel_sms.DLR_ROUTE
TOKEN = "test-kannel-callback-token"
GUARDIAN = "+212600000001"  # prefers Arabic
FR_GUARDIAN = "+212600000002"  # prefers French
LOOPBACK = ("127.0.0.1", 50000)

Calls = Callable[[], dict[str, dict[str, int]]]


@dataclass(frozen=True)
class Recorded:
    """One request as Kannel made it (`tests/fixtures/kannel/<name>.json`)."""

    method: str
    path: str
    query: list[tuple[str, str]]  # decoded as latin-1: byte for byte
    headers: dict[str, str]
    body: bytes

    @classmethod
    def load(cls, name: str, folder: str = "kannel") -> Recorded:
        doc = json.loads((FIXTURES / folder / f"{name}.json").read_text(encoding="utf-8"))
        query = parse_qsl(doc["query"], keep_blank_values=True, encoding="latin-1")
        return cls(
            method=doc["method"],
            path=doc["path"],
            query=[(k, TOKEN if k == "token" else v) for k, v in query],
            headers={k: v for k, v in doc["headers"].items() if k.lower() not in SKIPPED},
            body=bytes.fromhex(doc["body_hex"]),
        )

    def param(self, name: str) -> str:
        return dict(self.query)[name]

    def with_(self, body: bytes | None = None, **params: str | None) -> Recorded:
        """The same request with params changed (None drops one) or another body."""
        query = [(k, params.get(k, v)) for k, v in self.query if params.get(k, v) is not None]
        query += [(k, v) for k, v in params.items() if v is not None and k not in dict(self.query)]
        headers = dict(self.headers)
        if body is not None:
            headers["Content-Length"] = str(len(body))
        return Recorded(
            self.method,
            self.path,
            query,  # type: ignore[arg-type]
            headers,
            self.body if body is None else body,
        )

    def fresh(self) -> Recorded:
        """Another message: a new Kannel id (each test's turns are its own)."""
        return self.with_(id=str(uuid.uuid4()))

    def send(self, client: TestClient) -> httpx.Response:
        url = f"{self.path}?{urlencode(self.query, encoding='latin-1', safe=chr(39) + '(')}"
        return client.request(self.method, url, content=self.body or None, headers=self.headers)


SKIPPED = {"host", "connection", "content-length"}


@dataclass
class KannelGateway:
    client: TestClient
    held: HeldBackend | None = None
    _seen: set[str] = field(default_factory=set)

    @property
    def state(self) -> Any:
        return runtime_of(self.client.app)

    def queued(self) -> list[OutMessage]:
        """Replies waiting in the interactive stream, oldest first."""
        outbox = self.state.outbox
        stream = outbox.keys.stream(Priority.INTERACTIVE)
        rows = self.client.portal.call(outbox.redis.xrange, stream)  # type: ignore[union-attr]
        return [decode(stream, str(entry_id), fields).message for entry_id, fields in rows]

    def record(self, message_id: str) -> dict[str, Any] | None:
        return self.client.portal.call(self.state.records.get, message_id)  # type: ignore[union-attr, no-any-return]

    def write_sent(self, msg: OutMessage) -> None:
        outcome = Outcome(message=msg, status="sent", at=datetime.now(UTC), sender="kannel")
        self.client.portal.call(self.state.records.write, [outcome], ["h"])  # type: ignore[union-attr]


@pytest.fixture
def make_kannel(
    tmp_path: Path, redis_url: str | None, sandbox_app: object
) -> Iterator[Callable[..., KannelGateway]]:
    """`make_kannel(client=(host, port), held=path, **settings)`: a gateway with Kannel on."""
    clients: list[TestClient] = []

    def make(
        *, client: tuple[str, int] = LOOPBACK, held: str | None = None, **overrides: object
    ) -> KannelGateway:
        values: dict[str, object] = {
            "kannel_callback_token": TOKEN,
            "embedded_sender": False,
            **overrides,
        }
        redis = values.pop("redis_url", redis_url)
        settings = migrated(gateway_settings(tmp_path, redis, **values))  # type: ignore[arg-type]
        inner = httpx.ASGITransport(app=sandbox_app)  # type: ignore[arg-type]
        holding = HeldBackend(inner, held) if held is not None else None
        app = create_app(settings, backend_transport=holding or inner)
        test_client = TestClient(app, base_url=PUBLIC_URL, client=client)
        test_client.__enter__()
        clients.append(test_client)
        return KannelGateway(test_client, holding)

    yield make
    for test_client in clients:
        test_client.__exit__(None, None, None)


@pytest.fixture
def kannel(make_kannel: Callable[..., KannelGateway]) -> KannelGateway:
    return make_kannel()


# --- the recorded calls, through the whole route -----------------------------------------------


@dataclass(frozen=True)
class Row:
    label: str
    fixture: str
    status: int = 200
    body: str = ""  # the answer's text ("" for an SMS that is answered)
    phone: str | None = None  # the reply's address when one is queued
    lang: str | None = None  # the reply's language
    changes: dict[str, str | None] = field(default_factory=dict)
    new_body: bytes | None = None


ROWS = [
    Row(
        "text ABS", "mo_text", phone=GUARDIAN, lang="ar"
    ),  # the guardian's Arabic, not the keyword's
    Row("Arabic in UTF-16BE (mo-recode off)", "mo_ucs2", phone=GUARDIAN, lang="ar"),
    Row("Arabic re-coded to UTF-8", "mo_ucs2_recoded", phone=GUARDIAN, lang="ar"),
    Row("national sender number", "mo_national_sender", phone=FR_GUARDIAN, lang="fr"),
    Row("concatenated, re-assembled", "mo_concatenated", phone=FR_GUARDIAN, lang="fr"),
    Row("get-url text", "get_text", phone=GUARDIAN, lang="ar"),
    Row("get-url Arabic bytes", "get_ucs2", phone=GUARDIAN, lang="ar"),
    Row("get-url reserved characters", "get_reserved_characters", phone=FR_GUARDIAN, lang="fr"),
    Row(
        "1,000 characters",
        "mo_text",
        phone=GUARDIAN,
        new_body=("ABS " + "x" * 996).encode(),
    ),
    Row("empty", "mo_empty", body="ignored: empty text"),
    Row("spaces only", "mo_text", body="ignored: empty text", new_body=b"   \n"),
    Row("8-bit", "mo_8bit", body="ignored: binary message"),
    Row("8-bit with a UDH", "mo_udh_binary", body="ignored: binary message"),
    Row("text with a UDH", "mo_udh_text", body="ignored: binary message"),
    Row("unknown coding", "mo_text", body="ignored: unknown coding", changes={"coding": "7"}),
    Row("unknown charset", "mo_text", body="ignored: unknown charset", changes={"charset": "KOI8"}),
    Row(
        "odd UTF-16 bytes",
        "mo_ucs2",
        body="ignored: text does not decode",
        new_body=bytes.fromhex("063a064a06"),
    ),
    Row(
        "alphanumeric sender",
        "mo_alphanumeric_sender",
        body="ignored: sender is not a phone number",
    ),
    Row(
        "short number sender",
        "mo_text",
        body="ignored: sender is not a phone number",
        changes={"from": "2020"},
    ),
    Row("no id", "mo_text", status=400, body="id missing", changes={"id": None}),
    Row(
        "an id that is no Kannel id",
        "mo_text",
        status=400,
        body="id missing",
        changes={"id": "a b"},
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.label)
def test_each_recorded_call_is_answered_at_once_and_replied_by_sms(
    row: Row, kannel: KannelGateway
) -> None:
    call = Recorded.load(row.fixture).fresh().with_(body=row.new_body, **row.changes)
    response = call.send(kannel.client)
    assert (response.status_code, response.text) == (row.status, row.body)
    queued = kannel.queued()
    if row.phone is None:
        assert queued == []
        return
    [reply] = queued
    assert reply.to == row.phone
    assert reply.text.strip()
    assert (reply.channel, reply.kind, reply.priority) == (
        OutChannel.SMS,
        MessageKind.REPLY,
        Priority.INTERACTIVE,
    )
    # From the short code and the operator link the SMS came in on.
    assert (reply.sender_id, reply.route) == ("2020", "FAKE")
    assert reply.key == f"reply:kannel:{call.param('id')}"
    if row.lang is not None:
        assert lang_of(reply.text) == row.lang, reply.text


@pytest.mark.parametrize(
    ("fixture", "text"),
    [
        ("mo_text", "ABS"),
        ("mo_ucs2", "غياب"),
        ("mo_ucs2_recoded", "غياب"),
        ("mo_concatenated", "Bonjour le monde"),
        ("get_text", "ABS"),
        ("get_ucs2", "غياب"),
        ("get_reserved_characters", "Bonjour et à bientôt & merci=1%"),
    ],
)
def test_the_text_is_decoded_with_the_charset_kannel_names(fixture: str, text: str) -> None:
    call = Recorded.load(fixture)
    query = urlencode(call.query, encoding="latin-1").encode()
    headers = {k.lower(): v for k, v in call.headers.items()}
    data, raw = kannel_sms.call_fields(call.method, query, headers, call.body)
    sms = kannel_sms.parse_payload(data, raw)
    assert sms.text == text
    assert (sms.to, sms.smsc, sms.id) == ("2020", "FAKE", call.param("id"))


@pytest.mark.parametrize(
    ("sender", "phone"),
    [
        ("+212600000001", "+212600000001"),
        ("0600000002", "+212600000002"),
        ("00212600000002", "+212600000002"),
        ("212700000001", "+212700000001"),
    ],
)
def test_senders_become_e164(sender: str, phone: str) -> None:
    data = {"id": str(uuid.uuid4()), "from": sender, "coding": "0", "charset": "UTF-8"}
    assert kannel_sms.parse_payload(data, b"ABS").phone == phone


@pytest.mark.parametrize(
    ("to", "smsc", "expected"),
    [
        ("2020", "IAM", ("2020", "IAM")),
        ("+212522000000", "INWI_2", ("+212522000000", "INWI_2")),
        ("MASSAR", "ORANGE", ("MASSAR", "ORANGE")),
        ("", "", (None, None)),
        ("20 20", "IAM;x", (None, None)),  # not an address or a link name: not carried
    ],
)
def test_the_short_code_and_link_are_carried_only_when_well_formed(
    to: str, smsc: str, expected: tuple[str | None, str | None]
) -> None:
    data = {"id": str(uuid.uuid4()), "from": GUARDIAN, "to": to, "smsc": smsc}
    sms = kannel_sms.parse_payload(data, b"ABS")
    assert (sms.to, sms.smsc) == expected


def test_a_missing_id_is_a_configuration_error() -> None:
    with pytest.raises(PayloadError, match="id missing"):
        kannel_sms.parse_payload({"from": GUARDIAN}, b"ABS")


def test_a_long_text_reaches_the_engine_cut_to_500_characters() -> None:
    data = {"id": str(uuid.uuid4()), "from": GUARDIAN}
    assert len(kannel_sms.parse_payload(data, b"x" * 1000).text) == 500


# --- authentication -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("client", "token", "allowed"),
    [
        pytest.param(LOOPBACK, TOKEN, None, id="loopback-with-token"),
        pytest.param(("::1", 50000), TOKEN, None, id="ipv6-loopback"),
        pytest.param(("10.0.4.7", 50000), TOKEN, "10.0.4.0/24", id="allowed-network"),
        pytest.param(("10.0.5.7", 50000), TOKEN, "10.0.4.0/24", id="outside-the-network"),
        pytest.param(("10.0.4.7", 50000), TOKEN, None, id="not-loopback-by-default"),
        pytest.param(("testclient", 50000), TOKEN, None, id="not-an-address"),
        pytest.param(LOOPBACK, None, None, id="no-token"),
        pytest.param(LOOPBACK, "", None, id="empty-token"),
        pytest.param(LOOPBACK, "another-kannels-token", None, id="wrong-token"),
        pytest.param(LOOPBACK, TOKEN.upper(), None, id="token-case-matters"),
    ],
)
def test_only_the_allowed_kannel_with_the_token_is_heard(
    make_kannel: Callable[..., KannelGateway],
    backend_calls: Calls,
    client: tuple[str, int],
    token: str | None,
    allowed: str | None,
) -> None:
    extra = {"kannel_allowed_ips": allowed} if allowed else {}
    kannel = make_kannel(client=client, **extra)
    before = total(backend_calls())
    response = Recorded.load("mo_text").fresh().with_(token=token).send(kannel.client)
    address_ok = client[0] in ("127.0.0.1", "::1") or (allowed and client[0] == "10.0.4.7")
    if address_ok and token == TOKEN:
        assert response.status_code == 200
        assert len(kannel.queued()) == 1
        return
    assert response.status_code == 403
    assert response.text == ("bad token" if address_ok else "address not allowed")
    assert kannel.queued() == []
    assert total(backend_calls()) == before  # refused before any work


def test_the_token_of_another_channel_is_refused(kannel: KannelGateway) -> None:
    response = Recorded.load("mo_text").with_(token="test-at-token").send(kannel.client)
    assert response.status_code == 403


# --- repeats: smsbox calls again with the same id -----------------------------------------


def test_a_repeated_call_is_answered_once(kannel: KannelGateway, backend_calls: Calls) -> None:
    call = Recorded.load("mo_text").fresh()
    assert call.send(kannel.client).status_code == 200
    calls = total(backend_calls())
    for _ in range(3):
        assert call.send(kannel.client).status_code == 200
    assert len(kannel.queued()) == 1
    assert total(backend_calls()) == calls  # the turn's remembered answer, no backend


def test_a_repeat_while_the_first_is_being_answered_queues_one_reply(
    make_kannel: Callable[..., KannelGateway],
) -> None:
    kannel = make_kannel(held="/students/verify")
    assert kannel.held is not None
    call = Recorded.load("mo_text").fresh().with_(body=b"Z990000001 14092018")
    first, second = send_twice_while_the_first_waits(kannel.held, lambda: call.send(kannel.client))
    assert (first.status_code, second.status_code) == (200, 200)
    assert len(kannel.queued()) == 1


def test_two_messages_get_two_replies(kannel: KannelGateway) -> None:
    for _ in range(2):
        assert Recorded.load("mo_text").fresh().send(kannel.client).status_code == 200
    assert len({reply.key for reply in kannel.queued()}) == 2


def test_a_reply_leaves_through_the_sender_once(
    make_kannel: Callable[..., KannelGateway],
) -> None:
    kannel = make_kannel(embedded_sender=True)
    call = Recorded.load("mo_text").fresh()
    for _ in range(2):
        assert call.send(kannel.client).status_code == 200
    sink = kannel.state.senders[OutChannel.SMS]
    deadline = time.monotonic() + 15
    while not kannel.client.portal.call(sink.records, GUARDIAN):  # type: ignore[union-attr]
        assert time.monotonic() < deadline, "the reply never reached the sink"
        time.sleep(0.05)
    time.sleep(0.3)  # a second send, were there one, would have come by now
    assert len(kannel.client.portal.call(sink.records, GUARDIAN)) == 1  # type: ignore[union-attr]


def test_an_unreachable_outbox_makes_kannel_try_again(
    make_kannel: Callable[..., KannelGateway],
) -> None:
    kannel = make_kannel(redis_url="redis://127.0.0.1:1/0")
    response = Recorded.load("mo_text").fresh().send(kannel.client)
    assert response.status_code == 503  # smsbox calls again after http-queue-delay


def test_a_database_failure_mid_turn_makes_kannel_try_again(
    make_kannel: Callable[..., KannelGateway], tmp_path: Path
) -> None:
    kannel = make_kannel()
    with sqlite3.connect(tmp_path / "gateway.db") as db:
        db.execute("drop table phone_binding")  # the turn reads the phone's bindings
    response = Recorded.load("mo_text").fresh().send(kannel.client)
    assert (response.status_code, response.text) == (503, "try again")
    assert kannel.queued() == []


# --- logs -------------------------------------------------------------------------------------


def test_no_phone_text_or_token_reaches_the_logs(kannel: KannelGateway) -> None:
    calls = [
        Recorded.load(name).fresh()
        for name in ("mo_text", "mo_ucs2", "mo_alphanumeric_sender", "mo_empty")
    ]
    with structlog.testing.capture_logs() as logs:
        for call in calls:
            call.send(kannel.client)
        Recorded.load("mo_text").with_(token="wrong-token-wrong").send(kannel.client)
    written = repr(logs)
    for secret in (GUARDIAN, GUARDIAN[1:], "600000001", "ABS", "غياب", "INWI", TOKEN):
        assert secret not in written, secret
    reasons = {
        (entry["event"], entry["reason"])
        for entry in logs
        if entry["event"].startswith("kannel_mo")
    }
    assert reasons == {
        ("kannel_mo_ignored", "ignored: sender is not a phone number"),
        ("kannel_mo_ignored", "ignored: empty text"),
        ("kannel_mo_refused", "bad token"),
    }


# --- delivery reports ---------------------------------------------------------------------------


def sent_message(kannel: KannelGateway) -> OutMessage:
    msg = outbound(
        MessageKind.ALERT,
        key=f"test:{uuid.uuid4().hex}",
        channel=OutChannel.SMS,
        to=GUARDIAN,
        text="Absences: 2",
        now=datetime.now(UTC),
    )
    kannel.write_sent(msg)
    return msg


def dlr(
    kannel: KannelGateway, msg_id: str | None, status: str, *, token: str | None = TOKEN
) -> httpx.Response:
    call = Recorded.load("dlr_delivered").with_(msg=msg_id, status=status, token=token)
    return call.send(kannel.client)


@pytest.mark.parametrize(
    ("reports", "status", "error"),
    [
        pytest.param(["8"], "sent", None, id="taken-by-the-smsc"),
        pytest.param(["8", "1"], "delivered", None, id="accepted-then-delivered"),
        pytest.param(["4"], "sent", None, id="buffered"),
        pytest.param(["8", "2"], "failed", "kannel:dlr:2", id="not-delivered"),
        pytest.param(["16"], "failed", "kannel:dlr:16", id="refused-by-the-smsc"),
        pytest.param(["34"], "failed", "kannel:dlr:34", id="expired"),
        pytest.param(["66"], "failed", "kannel:dlr:66", id="unknown-fate"),
        pytest.param(["1", "8", "2"], "delivered", None, id="late-reports-never-step-back"),
        pytest.param(["1", "1"], "delivered", None, id="a-repeated-report"),
    ],
)
def test_delivery_reports_move_the_record_forward(
    kannel: KannelGateway, reports: list[str], status: str, error: str | None
) -> None:
    msg = sent_message(kannel)
    for report in reports:
        response = dlr(kannel, msg.id, report)
        assert (response.status_code, response.text) == (200, "")
    record = kannel.record(msg.id)
    assert record is not None
    assert (record["status"], record["error"]) == (status, error)


def test_the_recorded_reports_reach_the_record(kannel: KannelGateway) -> None:
    msg = sent_message(kannel)
    for name in ("dlr_accepted", "dlr_delivered"):
        call = Recorded.load(name).with_(msg=msg.id)
        assert call.send(kannel.client).status_code == 200
    record = kannel.record(msg.id)
    assert record is not None
    assert record["status"] == "delivered"


def test_a_report_that_overtakes_the_record_still_lands(kannel: KannelGateway) -> None:
    msg = outbound(  # recorded only 0.2 s after its report arrives
        MessageKind.REPLY,
        key="k",
        channel=OutChannel.SMS,
        to=GUARDIAN,
        text="x",
        now=datetime.now(UTC),
    )
    late = threading.Timer(0.2, kannel.write_sent, args=(msg,))
    late.start()
    response = dlr(kannel, msg.id, "1")
    late.join()
    assert response.status_code == 200
    record = kannel.record(msg.id)
    assert record is not None
    assert record["status"] == "delivered"


def reports_counted(kannel: KannelGateway, link: str, status: str) -> float | None:
    """`massar_delivery_reports_total` of Kannel's SMS for `link` and `status`."""
    labels = {"channel": "sms", "link": link, "status": status}
    value: float | None = kannel.state.metrics.registry.get_sample_value(
        "massar_delivery_reports_total", labels
    )
    return value


@pytest.mark.parametrize(
    ("smsc", "link"),
    [
        pytest.param("IAM", "IAM", id="the-link-kannel-names"),
        pytest.param(None, "unknown", id="a-url-without-smsc"),
        pytest.param("%i", "unknown", id="escape-not-filled-in"),
        pytest.param("../../etc", "unknown", id="not-a-link-name"),
        pytest.param("L" * 33, "unknown", id="too-long-for-a-link"),
    ],
)
def test_reports_are_counted_per_operator_link_and_a_strange_link_as_unknown(
    kannel: KannelGateway, smsc: str | None, link: str
) -> None:
    msg = sent_message(kannel)
    call = Recorded.load("dlr_delivered").with_(msg=msg.id, status="2", smsc=smsc)
    assert call.send(kannel.client).status_code == 200
    assert reports_counted(kannel, link, "failed") == 1  # the label set stays bounded


def test_a_refused_report_is_not_counted(make_kannel: Callable[..., KannelGateway]) -> None:
    kannel = make_kannel(client=("192.0.2.1", 50000))  # outside the allowlist
    msg = sent_message(kannel)
    call = Recorded.load("dlr_delivered").with_(msg=msg.id, status="2", smsc="IAM")
    assert call.send(kannel.client).status_code == 403
    assert reports_counted(kannel, "IAM", "failed") is None


@pytest.mark.parametrize(
    ("msg_id", "status", "text"),
    [
        pytest.param(uuid.uuid4().hex, "1", "ignored: unknown message", id="never-sent"),
        pytest.param("abc1", "1", "ignored", id="not-one-of-our-ids"),
        pytest.param(None, "1", "ignored", id="no-msg"),
        pytest.param("MSG", "%d", "ignored", id="escape-not-filled-in"),
        pytest.param("MSG", "3", "ignored", id="a-status-with-no-meaning"),
        pytest.param("MSG", "", "ignored", id="no-status"),
        pytest.param("MSG", "-1", "ignored", id="negative-status"),
    ],
)
def test_a_report_that_matches_nothing_is_acknowledged_and_changes_nothing(
    kannel: KannelGateway, msg_id: str | None, status: str, text: str
) -> None:
    msg = sent_message(kannel)
    response = dlr(kannel, msg.id if msg_id == "MSG" else msg_id, status)
    assert (response.status_code, response.text) == (200, text)  # a retry would not help
    record = kannel.record(msg.id)
    assert record is not None
    assert record["status"] == "sent"


@pytest.mark.parametrize(
    ("client", "token"),
    [
        pytest.param(LOOPBACK, None, id="no-token"),
        pytest.param(LOOPBACK, "wrong-token-wrong", id="wrong-token"),
        pytest.param(("192.0.2.1", 50000), TOKEN, id="outside-the-allowlist"),
    ],
)
def test_a_report_without_the_token_or_from_elsewhere_is_403(
    make_kannel: Callable[..., KannelGateway], client: tuple[str, int], token: str | None
) -> None:
    kannel = make_kannel(client=client)
    msg = sent_message(kannel)
    assert dlr(kannel, msg.id, "1", token=token).status_code == 403
    record = kannel.record(msg.id)
    assert record is not None
    assert record["status"] == "sent"


# --- which routes exist -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "inbound", "reports"),
    [
        pytest.param({}, 200, 200, id="channel-on"),
        pytest.param({"channels": "sms_twilio"}, 404, 404, id="channel-off"),
        pytest.param(
            {
                "channels": "sms_twilio",
                "sms_sender": "kannel",
                "kannel_sendsms_user": "massar",
                "kannel_sendsms_password": "test-kannel-sendsms-password",
                "kannel_sms_from": "2020",
            },
            404,
            200,
            id="sender-only-reports-still-come-back",
        ),
    ],
)
def test_the_routes_follow_the_settings(
    make_kannel: Callable[..., KannelGateway],
    settings: dict[str, str],
    inbound: int,
    reports: int,
) -> None:
    kannel = make_kannel(**settings)
    assert Recorded.load("mo_text").fresh().send(kannel.client).status_code == inbound
    response = dlr(kannel, uuid.uuid4().hex, "8")
    assert response.status_code == reports
