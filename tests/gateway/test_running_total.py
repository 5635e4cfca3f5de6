"""The running total an absence alert says is the answer to ABS's, for the same child (issue 26
item 1): one rule in the sandbox (`sandbox/absence_rule.py`) behind both the change event's
totals and the absences endpoint's, one function in the gateway (`running_total`) behind both
texts.

A table over every kind of absence (unjustified, justified, an excuse refused later, a
lateness): the change event's figures equal those of the ABS answer read afterwards through the
SMS dialog, and the alert, when the change makes one, says them. Then the demo end to end: an
absence recorded for a demo child gives one alert in /admin/messages whose total is the ABS
answer's."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from backend_client.models import ChangeEvent
from gateway.alerts.plan import alert_of
from gateway.alerts.texts import compose
from gateway.dialogs.absences import running_total
from tests.gateway.conftest import SmsPhone
from tests.gateway.test_alerts_demo import alerts_for, cursor, eventually

SANDBOX = {"Authorization": "Bearer sandbox-token"}
SANDBOX_ADMIN = {"Authorization": "Bearer sandbox-admin"}
RACHID = "+212700000001"  # prefers French; guardian of Youssef and Salma
SALMA = ("Z990000002", "02052008")
TOTAL = re.compile(r"(\d+) absences? non justifiées? \((\d+(?:,\d+)?) h\)")


def salma_id(sandbox: TestClient) -> str:
    found = sandbox.post("/api/v1/guardians/lookup", json={"phone": RACHID}, headers=SANDBOX)
    return str(next(s["id"] for s in found.json()["students"] if s["first_name_fr"] == "Salma"))


def head(sandbox: TestClient) -> str:
    return str(sandbox.get("/api/v1/changes/head", headers=SANDBOX).json()["cursor"])


def new_events(sandbox: TestClient, after: str) -> list[ChangeEvent]:
    page = sandbox.get("/api/v1/changes", params={"cursor": after}, headers=SANDBOX).json()
    return [ChangeEvent.model_validate(item) for item in page["items"]]


def figures(text: str) -> tuple[int, str]:
    """(count, hours) of "4 absences non justifiées (6 h)" in a French text."""
    found = TOTAL.search(text)
    assert found is not None, text
    return int(found.group(1)), found.group(2)


def abs_answer(gateway: TestClient) -> str:
    """Rachid asks ABS and names Salma (code and birth date): the dialog's answer."""
    sms = SmsPhone(gateway, RACHID)
    sms.send("ABS")
    return sms.send(" ".join(SALMA))


def record(sandbox: TestClient, student: str, kind: str) -> None:
    """One change of `kind` for `student`, on the sandbox's today."""
    body: dict[str, Any] = {"student_id": student, "date": "2026-05-20", "hours": 2}
    if kind == "refused":  # an excuse accepted, then refused by the school
        body["status"] = "justified"
    elif kind == "late":
        body["kind"] = "late"
    else:
        body["status"] = kind
    made = sandbox.post("/_sandbox/absences", json=body, headers=SANDBOX_ADMIN)
    assert made.status_code == 201, made.text
    if kind == "refused":
        patched = sandbox.patch(
            f"/_sandbox/absences/{made.json()['id']}",
            json={"status": "rejected"},
            headers=SANDBOX_ADMIN,
        )
        assert patched.status_code == 200, patched.text


# kind of change -> whether its last event alerts the guardians
KINDS = [("unjustified", True), ("justified", False), ("refused", True), ("late", False)]


@pytest.mark.parametrize(("kind", "alerts"), KINDS)
def test_the_alerts_total_is_the_abs_answers_for_every_kind_of_absence(
    make_gateway: Callable[..., TestClient], sandbox_app: Any, kind: str, alerts: bool
) -> None:
    gateway = make_gateway()
    sandbox = TestClient(sandbox_app)
    student = salma_id(sandbox)
    before = head(sandbox)
    record(sandbox, student, kind)
    event = new_events(sandbox, before)[-1]  # the refused excuse: its update

    assert event.totals is not None
    total = running_total(event.totals)
    assert total is not None
    said = abs_answer(gateway)
    assert figures(said) == (total.count, f"{total.hours:g}".replace(".", ","))

    alert = alert_of(event)
    if not alerts:
        assert alert is None  # a justified absence or a lateness is no alert
        return
    assert alert is not None
    text = compose(alert.kind, [alert.payload], "fr", first=False)
    assert figures(text) == figures(said)  # the same figure, by the same function
    if kind == "refused":
        assert "excuse refusée" in text


def test_a_backend_without_running_totals_alerts_without_a_total() -> None:
    old = ChangeEvent(
        id="evt_000000001",
        type="absence.created",
        occurred_at="2026-05-20T10:00:00+01:00",  # type: ignore[arg-type]
        student_id="stu_1",
        student_first_name_fr="Salma",
        student_first_name_ar="سلمى",
        guardian_ids=("gdn_1",),
        data={
            "date": "2026-05-20",
            "start_time": "08:30",
            "end_time": "10:30",
            "hours": 2,
            "status": "unjustified",
        },
    )
    alert = alert_of(old)
    assert alert is not None
    text = compose(alert.kind, [alert.payload], "fr", first=False)
    assert TOTAL.search(text) is None  # no figure rather than a wrong one
    assert text.endswith("Répondez ABS.")


def test_demo_an_absence_gives_one_alert_whose_total_is_the_abs_answers(
    make_gateway: Callable[..., TestClient], sandbox_app: Any
) -> None:
    gateway = make_gateway(embedded_sender=True, embedded_alerts=True, quiet_hours="none")
    sandbox = TestClient(sandbox_app)
    from gateway.deps import runtime_of

    db = runtime_of(gateway.app).db
    eventually(lambda: cursor(db) is not None, "the consumer at the feed's head")
    record(sandbox, salma_id(sandbox), "unjustified")
    eventually(lambda: len(alerts_for(gateway, RACHID)) == 1, "Rachid's alert")
    (alert,) = alerts_for(gateway, RACHID)
    assert alert["text"].startswith("Massar: Salma absent(e) le mercredi 20/05, 08:30-10:30")
    # "... 4 absences non justifiées (7 h) depuis septembre." / "Salma : 4 absences non
    # justifiées (7 h) depuis le 01/09."
    assert figures(alert["text"]) == figures(abs_answer(gateway))
    time.sleep(0.5)  # the consumer and the sender keep running: still one alert
    assert len(alerts_for(gateway, RACHID)) == 1
