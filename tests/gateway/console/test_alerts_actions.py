"""The alerts in the console: a phone's preferences in its lookup, a supervisor's opt-out/opt-in
and re-send of the last alert (audited, CSRF, 403 for agents), alerts sent on the dashboard."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from gateway.deps import runtime_of
from tests.gateway.conftest import SmsPhone
from tests.gateway.console.conftest import add_operators, csrf_of, said, sign_in
from tests.gateway.console.conftest import lookup as post_lookup
from tests.gateway.test_alerts_demo import alerts_for, cursor, eventually, record_absence

KHADIJA = "+212600000001"


def lookup(client: TestClient, phone: str = KHADIJA) -> str:
    page = post_lookup(client, phone)
    assert page.status_code == 200
    return page.text


def act(client: TestClient, action: str, reason: str = "the parent asked on the phone") -> Any:
    csrf = csrf_of(client.get("/console/lookup").text)
    return client.post(
        f"/console/actions/{action}", data={"csrf": csrf, "phone": KHADIJA, "reason": reason}
    )


def test_stop_by_sms_shows_and_a_supervisor_opts_the_number_back_in(
    supervisor: TestClient,
) -> None:
    before = lookup(supervisor)
    assert said("Gets alerts.") in before
    assert 'id="opted-out"' not in before
    SmsPhone(supervisor, KHADIJA).send("STOP")
    after = lookup(supervisor)
    assert 'id="opted-out"' in after
    today = datetime.now(ZoneInfo("Africa/Casablanca")).strftime("%d/%m/%Y")  # as the page writes
    assert today in after.split('id="opted-out"')[1].split("</span>")[0]
    assert f'id="alert-channel">{said("SMS")}<' in after
    assert said("Send alerts again") in after

    answered = act(supervisor, "opt-in")
    assert answered.status_code == 200
    assert said("This number gets alerts again.") in answered.text
    assert said("Gets alerts.") in answered.text
    prefs = runtime_of(supervisor.app).preferences
    assert supervisor.portal.call(prefs.is_opted_out, KHADIJA) is False  # type: ignore[union-attr]
    audit = supervisor.get("/console/actions/audit").text
    assert said("opted a number back in to alerts") in audit
    assert "+212*******01" in audit
    assert KHADIJA not in audit

    again = act(supervisor, "opt-out")
    assert said("This number gets no more alerts.") in again.text
    assert supervisor.portal.call(prefs.is_opted_out, KHADIJA) is True  # type: ignore[union-attr]


def test_an_agent_gets_403_and_a_forged_token_changes_nothing(console: TestClient) -> None:
    prefs = runtime_of(console.app).preferences
    console.portal.call(prefs.opt_out, KHADIJA)  # type: ignore[union-attr]
    assert sign_in(console, "amina").status_code == 303
    page = lookup(console)
    assert 'id="opted-out"' in page
    assert 'id="alerts-choice"' not in page  # no supervisor form for an agent
    for action in ("opt-in", "opt-out", "resend-alert"):
        assert act(console, action).status_code == 403
    assert console.portal.call(prefs.is_opted_out, KHADIJA) is True  # type: ignore[union-attr]
    console.cookies.clear()
    assert sign_in(console, "samir").status_code == 303
    forged = console.post(
        "/console/actions/opt-in",
        data={"csrf": "forged", "phone": KHADIJA, "reason": "the parent asked"},
    )
    assert forged.status_code in (400, 403)
    assert console.portal.call(prefs.is_opted_out, KHADIJA) is True  # type: ignore[union-attr]
    assert "opt_in" not in console.get("/console/actions/audit").text


def test_no_alert_to_send_again_is_said_on_the_page(supervisor: TestClient) -> None:
    answered = act(supervisor, "resend-alert")
    assert answered.status_code == 400
    assert said("No alert was sent to this number.") in answered.text


def test_an_alert_is_labelled_re_sent_once_and_counted_on_the_dashboard(
    make_gateway: Callable[..., TestClient], sandbox_app: Any
) -> None:
    gateway = make_gateway(embedded_sender=True, embedded_alerts=True, quiet_hours="none")
    add_operators(gateway)
    sandbox = TestClient(sandbox_app)
    found = sandbox.post(
        "/api/v1/guardians/lookup",
        json={"phone": KHADIJA},
        headers={"Authorization": "Bearer sandbox-token"},
    ).json()
    db = runtime_of(gateway.app).db
    eventually(lambda: cursor(db) is not None, "the consumer at the feed's head")
    record_absence(sandbox, found["students"][1]["id"], "08:30")
    eventually(lambda: len(alerts_for(gateway, KHADIJA)) == 1, "Khadija's alert")
    first = alerts_for(gateway, KHADIJA)[0]
    records = runtime_of(gateway.app).records
    stored = gateway.portal.call(records.get, first["id"])  # type: ignore[union-attr]
    assert stored["student_id"] == found["students"][1]["id"]  # the child it is about
    assert sign_in(gateway, "samir").status_code == 303

    dashboard = gateway.get("/console/dashboard").text
    sent = alerts_sent(dashboard)
    assert float(sent) >= 1  # Khadija's, and her co-guardian's
    assert 'id="alerts-failed"><bdi dir="ltr">0</bdi><' in dashboard

    page = lookup(gateway)
    assert f'class="kind-alert">{said("alert")}<' in page

    answered = act(gateway, "resend-alert", "the parent deleted the SMS")
    assert answered.status_code == 200, answered.text
    assert said("The last alert is queued again.") in answered.text
    eventually(lambda: len(alerts_for(gateway, KHADIJA)) == 2, "the re-sent alert")
    backlog = gateway.portal.call(runtime_of(gateway.app).outbox.backlog)  # type: ignore[union-attr]
    assert sum(backlog.values()) == 0  # nothing else waiting: exactly one new message
    newest = alerts_for(gateway, KHADIJA)[0]
    assert newest["id"] != first["id"]
    assert newest["text"] == first["text"]
    assert newest["channel"] == first["channel"]
    eventually(
        lambda: float(alerts_sent(gateway.get("/console/dashboard").text)) == float(sent) + 1,
        "the re-sent alert on the dashboard",
    )
    time.sleep(0.5)
    assert len(alerts_for(gateway, KHADIJA)) == 2  # exactly one new alert, no more
    audit = gateway.get("/console/actions/audit").text
    assert said("re-sent an alert") in audit
    assert "the parent deleted the SMS" in audit
    assert KHADIJA not in audit


def test_an_alert_past_its_retention_is_not_sent_again(
    make_gateway: Callable[..., TestClient],
) -> None:
    from gateway.outbox.model import MessageKind, OutChannel, OutMessage
    from gateway.outbox.records import Outcome
    from gateway.state.outbox.priority import Priority

    gateway = make_gateway()
    add_operators(gateway)
    state = runtime_of(gateway.app)
    old = datetime.now(UTC) - state.records.retention - timedelta(hours=1)
    msg = OutMessage(
        id="a" * 32,
        key="old-alert",
        channel=OutChannel.SMS,
        to=KHADIJA,
        text="an old absence",
        kind=MessageKind.ALERT,
        priority=Priority.BULK,
        created_at=old,
    )
    outcome = Outcome(message=msg, status="sent", at=old)
    gateway.portal.call(state.records.write, [outcome], ["h" * 64])  # type: ignore[union-attr]
    backlog = gateway.portal.call(state.outbox.backlog)  # type: ignore[union-attr]
    assert sign_in(gateway, "samir").status_code == 303
    answered = act(gateway, "resend-alert")
    assert answered.status_code == 400
    assert (
        said("The text of the last alert is no longer kept: it cannot be sent again.")
        in answered.text
    )
    assert gateway.portal.call(state.outbox.backlog) == backlog  # type: ignore[union-attr]


def alerts_sent(dashboard: str) -> str:
    """The count of alerts sent, as the dashboard shows it (a number isolated left to right)."""
    return re.sub(r"<[^>]+>", "", dashboard.split('id="alerts-sent">')[1].split("</strong>")[0])
