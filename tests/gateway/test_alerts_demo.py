"""The alerts demo, end to end in one gateway (embedded consumer and sender, the sink): an
unjustified absence recorded through the sandbox's admin API shows at
`/admin/messages?to=%2B212600000001` exactly once; after that phone sends STOP, the next
absence sends it nothing (its co-guardian still gets it). AR/FR chosen once outlives the
session; Twilio's own STOP words are recorded too."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import anyio
import httpx
import sqlalchemy as sa
from fastapi.testclient import TestClient

from gateway.deps import runtime_of
from gateway.dialogs.model import ChannelKind
from gateway.state.schema import alert_cursor
from tests.gateway.conftest import SmsPhone

ADMIN = {"Authorization": "Bearer demo-admin-token"}
SANDBOX_ADMIN = {"Authorization": "Bearer sandbox-admin"}
KHADIJA, RACHID = "+212600000001", "+212700000001"


def alerts_for(gateway: TestClient, phone: str) -> list[dict[str, Any]]:
    reply = gateway.get("/admin/messages", params={"to": phone}, headers=ADMIN)
    assert reply.status_code == 200, reply.text
    return [m for m in reply.json()["items"] if m["kind"] == "alert"]


def eventually(check: Callable[[], bool], what: str, timeout_s: float = 30.0) -> None:
    """Wait for the gateway's background consumer and sender (not a timing assertion)."""
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.1)


def cursor(db: sa.Engine) -> str | None:
    with db.connect() as conn:
        return conn.execute(sa.select(alert_cursor.c.cursor)).scalar_one_or_none()


def record_absence(sandbox: TestClient, student: str, start: str) -> None:
    body = {"student_id": student, "date": "2026-05-20", "start_time": start, "hours": 1}
    assert sandbox.post("/_sandbox/absences", json=body, headers=SANDBOX_ADMIN).status_code == 201


def test_an_absence_alerts_the_demo_phone_once_and_nothing_after_stop(
    make_gateway: Callable[..., TestClient], sandbox_app: Any
) -> None:
    gateway = make_gateway(embedded_sender=True, embedded_alerts=True, quiet_hours="none")
    sandbox = TestClient(sandbox_app)  # its lifespan already runs (the fixture)
    found = sandbox.post(
        "/api/v1/guardians/lookup",
        json={"phone": KHADIJA},
        headers={"Authorization": "Bearer sandbox-token"},
    ).json()
    child = found["students"][1]["id"]
    db = runtime_of(gateway.app).db
    eventually(lambda: cursor(db) is not None, "the consumer at the feed's head")
    record_absence(sandbox, child, "08:30")
    eventually(lambda: len(alerts_for(gateway, KHADIJA)) == 1, "Khadija's alert")
    eventually(lambda: len(alerts_for(gateway, RACHID)) == 1, "Rachid's alert")
    alert = alerts_for(gateway, KHADIJA)[0]
    assert alert["status"] == "sent"
    assert "08:30" in alert["text"]

    SmsPhone(gateway, KHADIJA).send("STOP")  # Twilio answers it itself: empty TwiML
    record_absence(sandbox, child, "10:30")
    eventually(lambda: len(alerts_for(gateway, RACHID)) == 2, "Rachid's second alert")
    time.sleep(0.5)
    assert len(alerts_for(gateway, KHADIJA)) == 1  # exactly once, and nothing after STOP


def test_stop_and_start_in_arabic_are_confirmed_and_recorded(
    make_gateway: Callable[..., TestClient],
) -> None:
    gateway = make_gateway()
    phone = SmsPhone(gateway, KHADIJA)
    stopped = phone.send("توقف")
    assert "ابدأ" in stopped  # confirmed, with how to resume
    prefs = runtime_of(gateway.app).preferences
    assert anyio.run(prefs.is_opted_out, KHADIJA)
    started = phone.send("ابدأ")
    assert "توقف" in started
    assert not anyio.run(prefs.is_opted_out, KHADIJA)


def test_a_language_chosen_with_fr_outlives_the_session(
    make_gateway: Callable[..., TestClient],
) -> None:
    gateway = make_gateway()
    phone = SmsPhone(gateway, KHADIJA)  # Khadija prefers Arabic (the backend says)
    assert "Services Massar" in phone.send("FR")
    sessions = runtime_of(gateway.app).sessions

    key = sessions.keys.session(ChannelKind.SMS, KHADIJA)
    assert gateway.portal.call(sessions.redis.delete, key) == 1  # type: ignore[union-attr]
    # The session is gone; the choice is not.
    assert "Services Massar" in phone.send("salam")


def test_backend_down_does_not_stop_stop(make_gateway: Callable[..., TestClient]) -> None:
    down = httpx.MockTransport(lambda _: httpx.Response(503, json={"code": "service-unavailable"}))
    gateway = make_gateway(backend_transport=down)
    assert "START" in SmsPhone(gateway, "+212600000099").send("arrêt")
