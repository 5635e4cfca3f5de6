"""Issue #26, "Done when": a WhatsApp guardian silent for more than 24 hours gets a template
alert, through the whole gateway (the sandbox's change feed, the embedded alerts consumer and
sender, the WhatsApp sink that reads the window as the real senders do): `/admin/messages`
names the template, the sink holds the words the parent reads (no child's name: minimal by
default), and a supervisor's re-send goes as a template too. A guardian who wrote within the
day gets the alert's text."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gateway.deps import runtime_of
from gateway.outbox.model import OutChannel
from gateway.state.whatsapp import WhatsAppWindow
from tests.gateway.console.conftest import add_operators, csrf_of, sign_in
from tests.gateway.test_alerts_demo import alerts_for, cursor, eventually, record_absence

pytestmark = pytest.mark.redis

KHADIJA = "+212600000001"


def khadija_on_whatsapp(
    make_gateway: Callable[..., TestClient], sandbox_app: Any, *, wrote_ago: timedelta | None
) -> tuple[TestClient, dict[str, Any]]:
    gateway = make_gateway(embedded_sender=True, embedded_alerts=True, quiet_hours="none")
    state = runtime_of(gateway.app)
    gateway.portal.call(state.preferences.set_channel, KHADIJA, "whatsapp")  # type: ignore[union-attr]
    if wrote_ago is not None:
        window = WhatsAppWindow(state.redis, state.sessions.keys)
        at = datetime.now(UTC) - wrote_ago
        gateway.portal.call(window.touch, KHADIJA, at)  # type: ignore[union-attr]
    sandbox = TestClient(sandbox_app)
    found = sandbox.post(
        "/api/v1/guardians/lookup",
        json={"phone": KHADIJA},
        headers={"Authorization": "Bearer sandbox-token"},
    ).json()
    eventually(lambda: cursor(state.db) is not None, "the consumer at the feed's head")
    record_absence(sandbox, found["students"][1]["id"], "08:30")
    eventually(lambda: [a["status"] for a in alerts_for(gateway, KHADIJA)] == ["sent"], "her alert")
    return gateway, found


def sink_texts(gateway: TestClient) -> list[str]:
    sink = runtime_of(gateway.app).senders[OutChannel.WHATSAPP]
    rows = gateway.portal.call(sink.records, KHADIJA)  # type: ignore[union-attr]
    return [r["text"] for r in rows if r["channel"] == "whatsapp"]


def test_a_whatsapp_guardian_silent_for_a_day_gets_a_template_alert(
    make_gateway: Callable[..., TestClient], sandbox_app: Any
) -> None:
    gateway, found = khadija_on_whatsapp(make_gateway, sandbox_app, wrote_ago=timedelta(hours=30))
    [alert] = alerts_for(gateway, KHADIJA)
    assert (alert["channel"], alert["template"]) == ("whatsapp", "massar_absence.ar")
    [text] = sink_texts(gateway)
    assert "غياب" in text  # "new information about your child's absences" in her Arabic
    child = found["students"][1]
    assert child["first_name_ar"] not in text
    assert child["first_name_fr"] not in text
    assert "08:30" not in text

    add_operators(gateway)
    assert sign_in(gateway, "samir").status_code == 303
    csrf = csrf_of(gateway.get("/console/lookup").text)
    answered = gateway.post(
        "/console/actions/resend-alert",
        data={"csrf": csrf, "phone": KHADIJA, "reason": "the parent deleted it"},
    )
    assert answered.status_code == 200
    eventually(
        lambda: [a["status"] for a in alerts_for(gateway, KHADIJA)] == ["sent", "sent"],
        "the re-sent alert",
    )
    assert [a["template"] for a in alerts_for(gateway, KHADIJA)] == ["massar_absence.ar"] * 2


def test_a_guardian_who_wrote_today_gets_the_alerts_text(
    make_gateway: Callable[..., TestClient], sandbox_app: Any
) -> None:
    gateway, _ = khadija_on_whatsapp(make_gateway, sandbox_app, wrote_ago=timedelta(hours=2))
    [alert] = alerts_for(gateway, KHADIJA)
    assert (alert["channel"], alert["template"]) == ("whatsapp", None)
    [text] = sink_texts(gateway)
    assert "08:30" in text
