"""An agent's lookup of a phone, the child check, supervisor actions and their audit; and the
attacks of issue #21 on it: a curious agent scanning a family's page before the check, a
number in a URL, failed checks turned against a family, a reveal that outlives its window."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest
from fastapi.testclient import TestClient

from gateway.deps import runtime_of
from gateway.outbox.model import MessageKind, OutChannel, outbound
from gateway.state.outbox.records import Outcome
from tests.gateway.conftest import SmsPhone, UssdPhone
from tests.gateway.console.conftest import (
    add_operators,
    another,
    csrf_of,
    lookup,
    said,
    sign_in,
)

KHADIJA = "+212600000001"
YOUSSEF = {"code": "Z990000001", "birth_date": "14/09/2018"}
# What the sandbox knows of the demo family (sandbox/demo.py): no page may show any of it
# before the check.
FIRST_NAMES = ["Khadija", "خديجة", "Youssef", "يوسف", "Salma", "سلمى"]


def not_locked(failures: int) -> str:
    """The lockout line as the page draws it: its count isolated left to right."""
    line = said("Not locked (%(n)s wrong answers in the last 24 hours).")
    return line % {"n": f'<bdi dir="ltr">{failures}</bdi>'}


def verify(client: TestClient, phone: str, code: str, birth_date: str, **extra: str):
    csrf = csrf_of(client.get("/console/lookup").text)
    return client.post(
        "/console/lookup/verify",
        data={"csrf": csrf, "phone": phone, "code": code, "birth_date": birth_date, **extra},
    )


def record(
    client: TestClient,
    text: str,
    student: str | None,
    kind: MessageKind,
    template: str | None = None,
) -> None:
    """A message the outbox sent to Khadija, as its record holds it."""
    records = runtime_of(client.app).records
    now = datetime.now(UTC)
    msg = outbound(
        kind,
        key=f"test:{text}",
        channel=OutChannel.SMS,
        to=KHADIJA,
        text=text,
        now=now,
        student=student,
        message_id=f"{abs(hash((text, student))):032x}"[:32],
    )
    outcome = Outcome(message=msg, status="sent", at=now, template=template)
    client.portal.call(records.write, [outcome], [f"idem-{msg.id}"])  # type: ignore[union-attr]


def students_of(client: TestClient) -> dict[str, str]:
    """The demo guardian's children: first name -> opaque id (from the backend, as a test)."""
    backend = runtime_of(client.app).backend.resilient
    from backend_client import Deadline

    found = client.portal.call(  # type: ignore[union-attr]
        lambda: backend.lookup_guardian(KHADIJA, deadline=Deadline.after(5))
    )
    return {s.first_name_fr: s.id for s in found.students}


@pytest.mark.parametrize(
    "typed", ["+212600000001", "0600000001", "00212 600 000 001", "٠٦٠٠٠٠٠٠٠١"]
)
def test_a_phone_in_any_format_finds_the_guardians_children_by_initial(
    agent: TestClient, typed: str
) -> None:
    page = lookup(agent, typed)
    assert page.status_code == 200
    assert 'id="children-count"><bdi dir="ltr">2</bdi><' in page.text
    assert f'id="preferred-lang">{said("Arabic")}' in page.text  # Khadija prefers Arabic
    children = page.text.split('id="children"')[1].split("</table>")[0]
    assert "<td>Y.</td>" in children
    assert "<td>S.</td>" in children
    assert "+212*******01" in page.text
    assert "+212600000001" not in page.text.replace('value="+212600000001"', "")


def test_the_lookup_page_before_the_check_shows_no_name_no_mark_no_absence_no_text(
    supervisor: TestClient,
) -> None:
    """The attack of issue #21: a curious agent reads a family's page without the check."""
    sms = SmsPhone(supervisor, KHADIJA)
    sms.send("Z990000001 14092018")  # binds Youssef; the gateway's answers name him
    sms.send("ABS")
    ids = students_of(supervisor)
    record(
        supervisor, "Youssef: 3 h absent le 02/12, maths 14/20", ids["Youssef"], MessageKind.ALERT
    )
    record(supervisor, "Salma: absente le 03/12 de 8h a 10h", ids["Salma"], MessageKind.ALERT)
    page = lookup(supervisor, KHADIJA).text
    for name in FIRST_NAMES:
        assert name not in page, name
    assert 'id="absences"' not in page
    assert 'id="grades"' not in page
    assert "maths" not in page
    assert "14/20" not in page
    assert "absente" not in page
    messages = page.split('id="messages"')[1].split("</table>")[0]
    rows = re.findall(r"<tr>.*?</tr>", messages, re.S)[1:]
    assert len(rows) >= 2  # each message's time, channel, kind and status are there
    assert 'class="kind-alert"' in messages
    assert 'class="status-sent"' in messages
    assert messages.count('class="hidden-text"') == len(rows)


def test_the_lookup_page_names_the_whatsapp_template_an_alert_went_out_as(
    agent: TestClient,
) -> None:
    """The template's name says which one went (issue #26), and nothing about the child."""
    ids = students_of(agent)
    text = "Massar : absence non justifiee de Youssef : 02/12 08:30-10:30."
    record(agent, text, ids["Youssef"], MessageKind.ALERT, template="massar_absence_full.fr")
    messages = lookup(agent, KHADIJA).text.split('id="messages"')[1].split("</table>")[0]
    assert '<code class="template">massar_absence_full.fr</code>' in messages
    assert "Youssef" not in messages


def test_a_number_in_the_url_is_never_looked_up(agent: TestClient) -> None:
    page = agent.get("/console/lookup", params={"phone": KHADIJA})
    assert page.status_code == 200
    assert 'id="phone"' not in page.text
    assert "+212*******01" not in page.text
    form = page.text.split('id="lookup-form"')[0].rsplit("<form", 1)[1]
    assert 'method="post"' in form


def test_after_the_check_that_childs_data_appears_and_an_audit_line_records_it(
    supervisor: TestClient,
) -> None:
    ids = students_of(supervisor)
    record(supervisor, "Youssef: 3 h absent le 02/12", ids["Youssef"], MessageKind.ALERT)
    record(supervisor, "Salma: absente le 03/12", ids["Salma"], MessageKind.ALERT)
    record(supervisor, "Menu: 1 absences 2 notes", None, MessageKind.REPLY)
    checked = verify(supervisor, KHADIJA, **YOUSSEF, reason="the father asks about absences")
    assert checked.status_code == 200
    assert "Youssef" in checked.text
    assert 'id="absences"' in checked.text
    assert 'id="grades"' in checked.text
    assert "Youssef: 3 h absent le 02/12" in checked.text  # a text about him
    assert "Salma" not in checked.text  # not his sister: her name, her alert
    assert "Menu: 1 absences" not in checked.text  # a text about no one child
    again = lookup(supervisor, KHADIJA).text  # the same session, within 15 minutes
    assert "Youssef: 3 h absent le 02/12" in again
    entries = supervisor.portal.call(runtime_of(supervisor.app).console.audit.recent, 50)  # type: ignore[union-attr]
    reveal = next(e for e in entries if e.action == "reveal_child")
    assert reveal.operator == "samir"
    assert reveal.phone_masked == "+212*******01"
    assert reveal.child == ids["Youssef"]
    assert reveal.reason == "the father asks about absences"
    audit = supervisor.get("/console/actions/audit").text
    assert said("saw a child's data after the check") in audit
    assert ids["Youssef"] in audit
    assert KHADIJA not in audit


def test_a_reveal_belongs_to_one_session_for_fifteen_minutes(console: TestClient) -> None:
    assert sign_in(console, "amina").status_code == 303
    assert "Youssef" in verify(console, KHADIJA, **YOUSSEF).text
    colleague = another(console)
    assert sign_in(colleague, "samir").status_code == 303
    assert "Youssef" not in lookup(colleague, KHADIJA).text  # another agent's session
    state = runtime_of(console.app)
    redis = state.redis
    keys = console.portal.call(lambda: redis.keys("mg:{console}:s:*:reveal"))  # type: ignore[union-attr]
    for key in keys:  # 15 minutes later: the reveal's time is past
        fields = console.portal.call(redis.hgetall, key)  # type: ignore[union-attr]
        for field in fields:
            console.portal.call(redis.hset, key, field, str(time.time() - 1))  # type: ignore[union-attr]
    assert "Youssef" not in lookup(console, KHADIJA).text


def test_no_number_not_a_number_and_an_unknown_number(agent: TestClient) -> None:
    assert "+212*******" not in agent.get("/console/lookup").text
    bad = lookup(agent, "hello")
    assert bad.status_code == 400
    assert said("This is not a phone number: type it as the caller says it.") in bad.text
    unknown = lookup(agent, "+212600000077")
    assert unknown.status_code == 200
    assert said("No guardian is known for this number.") in unknown.text


def test_an_agents_wrong_checks_count_against_the_agent_not_the_family(
    make_gateway: Callable[..., TestClient],
) -> None:
    """Issue #21 item 5: a curious (or fooled) agent cannot lock a family out through the
    gateway, and is stopped after a few wrong checks, whatever the phone."""
    client = make_gateway(console_check_failures=2)
    add_operators(client)
    assert sign_in(client, "amina").status_code == 303
    for _ in range(2):
        wrong = verify(client, KHADIJA, "Z990000001", "01/01/2001")
        assert (
            said("The code and the birth date do not match a child of this number.") in wrong.text
        )
        assert 'id="absences"' not in wrong.text
    lockout = runtime_of(client.app).turns.dialog.lockout
    assert client.portal.call(lockout.phone_state, KHADIJA) == (0, None)  # type: ignore[union-attr]
    page = lookup(client, KHADIJA).text
    assert not_locked(0) in page
    stopped = verify(client, "+212600000002", "Z990000003", "14/03/2012")  # right, but stopped
    assert (
        said("You made too many wrong checks: wait 15 minutes or ask a supervisor.") in stopped.text
    )
    assert 'id="absences"' not in stopped.text
    assert "CON" in UssdPhone(client, KHADIJA).dial()  # the family's channels still answer


def test_a_phone_locked_on_its_channels_is_locked_in_the_console_and_a_supervisor_clears_it(
    supervisor: TestClient,
) -> None:
    sms = SmsPhone(supervisor, KHADIJA)
    for _ in range(3):
        sms.send("Z990000001 01012001")  # the parent's own wrong answers
    page = lookup(supervisor, KHADIJA)
    assert said("Locked until %(time)s after %(n)s wrong answers.").split("%")[0] in page.text
    locked = verify(supervisor, KHADIJA, **YOUSSEF)
    assert said("This number or this code is locked after too many wrong answers.") in locked.text
    assert 'id="absences"' not in locked.text
    cleared = supervisor.post(
        "/console/actions/clear-lockout",
        data={"csrf": csrf_of(page.text), "phone": KHADIJA, "reason": "the caller mistyped"},
    )
    assert cleared.status_code == 200
    assert said("The lockout of this number is cleared.") in cleared.text
    assert not_locked(0) in cleared.text
    audit = supervisor.get("/console/actions/audit").text
    assert said("cleared a lockout") in audit
    assert "the caller mistyped" in audit
    assert "+212*******01" in audit
    assert "+212600000001" not in audit


def test_an_action_needs_a_reason(supervisor: TestClient) -> None:
    csrf = csrf_of(supervisor.get("/console/lookup").text)
    response = supervisor.post(
        "/console/actions/clear-lockout", data={"csrf": csrf, "phone": KHADIJA, "reason": ""}
    )
    assert response.status_code == 400
    assert said("Give a reason for this action.") in response.text


def test_a_binding_made_by_sms_shows_and_a_supervisor_revokes_it(supervisor: TestClient) -> None:
    SmsPhone(supervisor, KHADIJA).send("Z990000001 14092018")
    page = lookup(supervisor, KHADIJA)
    assert page.text.count(said("Revoke the binding")) == 1
    student = page.text.split('name="student" value="')[1].split('"')[0]
    revoked = supervisor.post(
        "/console/actions/revoke-binding",
        data={
            "csrf": csrf_of(page.text),
            "phone": KHADIJA,
            "student": student,
            "reason": "the number changed hands",
        },
    )
    assert said("The child is no longer bound to this number.") in revoked.text
    assert said("Revoke the binding") not in revoked.text
    bindings = runtime_of(supervisor.app).turns.dialog.bindings
    assert supervisor.portal.call(bindings.bound_since, KHADIJA) == {}  # type: ignore[union-attr]


def test_messages_and_conversations_show_states_not_texts(supervisor: TestClient) -> None:
    sms = SmsPhone(supervisor, KHADIJA)
    sms.send("Z990000001 14092018")
    ussd = UssdPhone(supervisor, KHADIJA)
    ussd.dial()
    page = lookup(supervisor, KHADIJA).text
    conversations = page.split('id="conversations"')[1]
    assert f"<td>{said('USSD')}</td>" in conversations
    assert f"<td>{said('SMS')}</td>" in conversations
    assert "Z990000001" not in page


def test_script_in_every_field_is_escaped(supervisor: TestClient) -> None:
    evil = "<script>alert(1)</script>"
    page = lookup(supervisor, evil)
    assert evil not in page.text
    assert "&lt;script&gt;" in page.text
    checked = verify(supervisor, KHADIJA, evil, evil)
    assert evil not in checked.text
    csrf = csrf_of(checked.text)
    supervisor.post(
        "/console/actions/clear-lockout", data={"csrf": csrf, "phone": KHADIJA, "reason": evil}
    )
    audit = supervisor.get("/console/actions/audit").text
    assert evil not in audit
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in audit
    assert evil not in supervisor.get("/console/simulator", params={"phone": evil}).text


def test_console_pages_carry_the_security_headers(supervisor: TestClient) -> None:
    page = lookup(supervisor, KHADIJA)
    csp = page.headers["content-security-policy"]
    assert "unsafe-inline" not in csp
    assert "default-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "same-origin"
    assert page.headers["cache-control"] == "no-store"
    assert "strict-transport-security" not in page.headers  # production only
    for path in ("/console/signin", "/console/actions/audit", "/console/dashboard"):
        assert supervisor.get(path).headers["cache-control"] == "no-store", path
    assert "style=" not in page.text
    assert "<script" not in page.text


class CountingTransport(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner, self.paths = inner, []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(f"{request.method} {request.url.path}")
        return await self.inner.handle_async_request(request)


def test_what_an_agents_lookup_costs_in_backend_calls(
    make_gateway: Callable[..., TestClient], sandbox_app: object
) -> None:
    counting = CountingTransport(httpx.ASGITransport(app=sandbox_app))  # type: ignore[arg-type]
    client = make_gateway(backend_transport=counting)
    add_operators(client)
    sign_in(client, "amina")
    counting.paths.clear()
    lookup(client, KHADIJA)
    first = list(counting.paths)
    counting.paths.clear()
    lookup(client, KHADIJA)
    again = list(counting.paths)
    counting.paths.clear()
    verify(client, KHADIJA, **YOUSSEF)
    check = list(counting.paths)
    assert first == ["POST /api/v1/guardians/lookup"]
    assert again == []  # the gateway's cache answers the second lookup
    # The check: verify, then the child's absences, the school year, and the marks of the
    # current semester (the sandbox's semester 2 is not out: the channels' fallback to 1).
    assert [p.split("/stu_")[0] for p in check] == [
        "POST /api/v1/students/verify",
        "GET /api/v1/students",
        "GET /api/v1/meta",
        "GET /api/v1/students",
        "GET /api/v1/students",
    ]
