"""The outbox through the whole gateway: a slow USSD turn's answer leaves through Twilio's
REST API (mocked at the HTTP level), Twilio's status callbacks move its record, and
`/admin/messages` shows one address's messages to operators."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from fastapi.testclient import TestClient

from gateway.deps import runtime_of
from gateway.dialogs import texts
from gateway.i18n import translator
from gateway.outbox.model import OutChannel
from gateway.state.outbox.records import Outcome
from tests.gateway.conftest import (  # noqa: F401 (fixtures)
    PUBLIC_URL,
    SmsPhone,
    UssdPhone,
    sandbox_app,
    sandbox_database,
    seeded_sandbox_file,
    sign_twilio,
)
from tests.outbox.conftest import message
from tests.resilience.conftest import FaultyTransport, faulty_gateway  # noqa: F401 (fixture)

pytestmark = pytest.mark.redis

GUARDIAN = "+212600000001"
ADMIN = "admin-token-for-tests"
ACCOUNT = "AC00000000000000000000000000000042"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "twilio"
Make = Callable[..., tuple[TestClient, FaultyTransport]]


def admin(client: TestClient, to: str, token: str | None = ADMIN) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return client.get("/admin/messages", params={"to": to}, headers=headers)


class TwilioApi:
    """Twilio's Messages endpoint, recorded: each POST gets a new SM sid."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.created = json.loads((FIXTURES / "rest" / "message_created.json").read_text())

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        sid = "SM" + uuid.uuid4().hex
        return httpx.Response(201, json={**self.created, "sid": sid})

    def sent(self) -> list[dict[str, list[str]]]:
        return [parse_qs(r.content.decode()) for r in self.requests]


def wait_until(check: Callable[[], bool], what: str, timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def status_callback(client: TestClient, sid: str, status: str) -> int:
    params = {
        "MessageSid": sid,
        "SmsSid": sid,
        "MessageStatus": status,
        "AccountSid": ACCOUNT,
        "To": GUARDIAN,
    }
    route = "/channels/sms/twilio/status"
    signature = sign_twilio(PUBLIC_URL + route, params)
    return client.post(route, data=params, headers={"X-Twilio-Signature": signature}).status_code


def test_a_slow_ussd_answer_goes_out_through_twilio_and_its_callbacks_move_the_record(
    faulty_gateway: Make,  # noqa: F811
) -> None:
    api = TwilioApi()
    client, transport = faulty_gateway(
        embedded_sender=True,
        admin_token=ADMIN,
        sms_sender="twilio",
        twilio_account_sid=ACCOUNT,
        twilio_sms_from="+212522000000",
        provider_transport=httpx.MockTransport(api),
    )
    SmsPhone(client, GUARDIAN).send("Z990000001 14092018")  # bind the child
    phone = UssdPhone(client, GUARDIAN)
    phone.dial()
    transport.slow = ("/absences",)
    phone.press("1")
    assert phone.press("1") == "END " + translator("ar").gettext(texts.ANSWER_BY_SMS)
    wait_until(lambda: len(api.requests) == 1, "the SMS at Twilio")
    [request] = api.requests
    assert request.url.path == f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
    form = api.sent()[0]
    assert form["To"] == [GUARDIAN]
    assert form["From"] == ["+212522000000"]
    assert form["Body"][0].startswith("يوسف: ")
    assert form["StatusCallback"] == [PUBLIC_URL + "/channels/sms/twilio/status"]
    wait_until(lambda: admin(client, GUARDIAN).json()["items"][:1] != [], "the record")
    wait_until(
        lambda: admin(client, GUARDIAN).json()["items"][0]["status"] == "sent", "sent status"
    )
    state: Any = runtime_of(client.app)
    [item] = admin(client, GUARDIAN).json()["items"]
    record = client.portal.call(state.records.get, item["id"])  # type: ignore[union-attr]
    sid = record["provider_id"]
    assert sid.startswith("SM")
    assert status_callback(client, sid, "delivered") == 204
    assert status_callback(client, sid, "sent") == 204  # late and out of order
    assert status_callback(client, sid, "delivered") == 204  # repeated
    [item] = admin(client, GUARDIAN).json()["items"]
    assert item["status"] == "delivered"
    # The SMS is the record's text with its options as numbered lines.
    assert item["options"] == [{"id": "menu", "label": "القائمة", "key": "0"}]
    assert form["Body"][0] == item["text"] + "\n0. القائمة"
    assert item["to"] == GUARDIAN
    # A callback about a message the outbox never sent changes no record and is still taken.
    assert status_callback(client, "SM" + "0" * 32, "delivered") == 204
    # The answer handed the conversation over to SMS: replying "0" reaches the menu.
    reply = SmsPhone(client, GUARDIAN).send("0")
    assert "1. " in reply
    assert translator("ar").gettext(texts.SESSION_ENDED) not in reply


@pytest.mark.parametrize(
    ("token", "status"),
    [
        pytest.param(None, 401, id="no-header"),
        pytest.param("", 401, id="empty-bearer"),
        pytest.param("wrong-token-wrong-token", 403, id="wrong-token"),
    ],
)
def test_admin_messages_needs_the_admin_token(
    faulty_gateway: Make,  # noqa: F811
    token: str | None,
    status: int,
) -> None:
    client, _ = faulty_gateway(admin_token=ADMIN)
    response = admin(client, GUARDIAN, token)
    assert response.status_code == status
    basic = client.get(
        "/admin/messages", params={"to": GUARDIAN}, headers={"Authorization": f"Basic {ADMIN}"}
    )
    assert basic.status_code == 401


@pytest.mark.parametrize(
    ("to", "status"),
    [
        pytest.param("0600000001", 200, id="national-form"),
        pytest.param("+212600000001", 200, id="e164"),
        pytest.param("telegram:123456789", 200, id="telegram"),
        pytest.param("hello", 400, id="not-an-address"),
        pytest.param("telegram:abc", 400, id="bad-telegram-id"),
    ],
)
def test_admin_messages_reads_an_address_in_any_usual_form(
    faulty_gateway: Make,  # noqa: F811
    to: str,
    status: int,
) -> None:
    client, _ = faulty_gateway(admin_token=ADMIN)
    response = admin(client, to)
    assert response.status_code == status, response.text
    if status == 200:
        assert response.json() == {"items": []}


def test_admin_messages_lists_newest_first_and_hides_bodies_past_retention(
    faulty_gateway: Make,  # noqa: F811
) -> None:
    client, _ = faulty_gateway(admin_token=ADMIN, message_body_retention_h=72)
    state: Any = runtime_of(client.app)
    now = datetime.now(UTC)
    old = message(1, text="Absences : 3", created_at=now - timedelta(hours=80))
    new = message(2, text="Notes : 14,5", created_at=now - timedelta(hours=1))
    other = message(3, to="+212600000002", created_at=now)
    outcomes = [
        Outcome(message=m, status="sent", at=now, provider_id=None) for m in (old, new, other)
    ]
    keys = [state.outbox.key_h(m) for m in (old, new, other)]
    client.portal.call(state.records.write, outcomes, keys)  # type: ignore[union-attr]
    items = admin(client, "0600000001").json()["items"]
    assert [(i["id"], i["text"]) for i in items] == [(new.id, "Notes : 14,5"), (old.id, None)]
    assert {i["channel"] for i in items} == {OutChannel.SMS.value}
    # The purge empties what the read already hid.
    purged = client.portal.call(state.records.purge_bodies)  # type: ignore[union-attr]
    assert purged == 1
    stored = client.portal.call(state.records.get, old.id)  # type: ignore[union-attr]
    assert stored["text"] is None
    assert client.portal.call(state.records.get, new.id)["text"] == "Notes : 14,5"  # type: ignore[union-attr]


def test_admin_messages_names_the_whatsapp_template_an_alert_went_out_as(
    faulty_gateway: Make,  # noqa: F811
) -> None:
    client, _ = faulty_gateway(admin_token=ADMIN)
    state: Any = runtime_of(client.app)
    now = datetime.now(UTC)
    as_text, as_template = message(1, created_at=now - timedelta(minutes=2)), message(2)
    outcomes = [
        Outcome(message=as_text, status="sent", at=now, provider_id="SM1"),
        Outcome(message=as_template, status="sent", at=now, provider_id="SM2", template="t.fr"),
    ]
    keys = [state.outbox.key_h(m) for m in (as_text, as_template)]
    client.portal.call(state.records.write, outcomes, keys)  # type: ignore[union-attr]
    # A status callback later keeps the template the send recorded.
    client.portal.call(state.records.status_callback, "SM2", "delivered", None, now)  # type: ignore[union-attr]
    items = admin(client, GUARDIAN).json()["items"]
    assert [(i["id"], i["template"], i["status"]) for i in items] == [
        (as_template.id, "t.fr", "delivered"),
        (as_text.id, None, "sent"),
    ]
