"""An agent's lookup of a phone, the child check, supervisor actions and their audit."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.gateway.conftest import SmsPhone, UssdPhone
from tests.gateway.console.conftest import add_operators, csrf_of, said, sign_in

KHADIJA = "+212600000001"
YOUSSEF = {"code": "Z990000001", "birth_date": "14/09/2018"}


def verify(client: TestClient, phone: str, code: str, birth_date: str) -> httpx.Response:
    csrf = csrf_of(client.get("/console/lookup").text)
    return client.post(
        "/console/lookup/verify",
        data={"csrf": csrf, "phone": phone, "code": code, "birth_date": birth_date},
    )


@pytest.mark.parametrize(
    "typed", ["+212600000001", "0600000001", "00212 600 000 001", "٠٦٠٠٠٠٠٠٠١"]
)
def test_a_phone_in_any_format_finds_the_guardian(agent: TestClient, typed: str) -> None:
    page = agent.get("/console/lookup", params={"phone": typed})
    assert page.status_code == 200
    assert 'id="guardian">Khadija' in page.text
    assert 'id="preferred-lang">العربية' in page.text  # Khadija prefers Arabic
    assert "Youssef" in page.text
    assert "Salma" in page.text
    assert "+212*******01" in page.text
    assert "+212600000001" not in page.text.replace('value="+212600000001"', "")


def test_no_number_not_a_number_and_an_unknown_number(agent: TestClient) -> None:
    assert "Khadija" not in agent.get("/console/lookup").text
    bad = agent.get("/console/lookup", params={"phone": "hello"})
    assert bad.status_code == 400
    assert said("This is not a phone number: type it as the caller says it.") in bad.text
    unknown = agent.get("/console/lookup", params={"phone": "+212600000077"})
    assert unknown.status_code == 200
    assert said("No guardian is known for this number.") in unknown.text
    assert "Khadija" not in unknown.text


def test_marks_and_absences_only_after_the_childs_code_and_birth_date(agent: TestClient) -> None:
    page = agent.get("/console/lookup", params={"phone": KHADIJA})
    assert 'id="absences"' not in page.text
    assert 'id="grades"' not in page.text
    checked = verify(agent, KHADIJA, **YOUSSEF)
    assert checked.status_code == 200
    assert 'id="absences"' in checked.text
    assert 'id="grades"' in checked.text


def test_a_wrong_birth_date_counts_toward_the_phones_lockout(supervisor: TestClient) -> None:
    for _ in range(2):
        wrong = verify(supervisor, KHADIJA, "Z990000001", "01/01/2001")
        assert (
            said("The code and the birth date do not match a child of this number.") in wrong.text
        )
        assert 'id="absences"' not in wrong.text
    verify(supervisor, KHADIJA, "Z990000001", "01/01/2001")  # the 3rd: a 15-minute cool-off
    page = supervisor.get("/console/lookup", params={"phone": KHADIJA})
    assert said("Locked until %(time)s UTC after %(n)s wrong answers.").split("%")[0] in page.text
    locked = verify(supervisor, KHADIJA, **YOUSSEF)
    assert said("This number or this code is locked after too many wrong answers.") in locked.text
    assert 'id="absences"' not in locked.text
    # The same lockout as the channels: the parent's own USSD check is refused too.
    assert UssdPhone(supervisor, KHADIJA).dial().startswith(("CON", "END"))
    csrf = csrf_of(page.text)
    cleared = supervisor.post(
        "/console/actions/clear-lockout",
        data={"csrf": csrf, "phone": KHADIJA, "reason": "the caller mistyped the year"},
    )
    assert cleared.status_code == 200
    assert said("The lockout of this number is cleared.") in cleared.text
    assert said("Not locked (%(n)s wrong answers in the last 24 hours).", n=0) in cleared.text
    lockout = supervisor.app.state.turns.lockout  # type: ignore[attr-defined]
    assert supervisor.portal.call(lockout.phone_state, KHADIJA) == (0, None)  # type: ignore[union-attr]
    # Massar keeps its own counter (DOMAIN §3), which the gateway cannot clear: the check
    # now reaches it, and it still says locked until its own cool-off ends.
    assert (
        said("This number or this code is locked after too many wrong answers.")
        in verify(supervisor, KHADIJA, **YOUSSEF).text
    )
    audit = supervisor.get("/console/actions/audit").text
    assert said("cleared a lockout") in audit
    assert "the caller mistyped the year" in audit
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
    page = supervisor.get("/console/lookup", params={"phone": KHADIJA})
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
    bindings = supervisor.app.state.turns.bindings  # type: ignore[attr-defined]
    assert supervisor.portal.call(bindings.bound_since, KHADIJA) == {}  # type: ignore[union-attr]


def test_messages_and_conversations_show_states_not_texts(supervisor: TestClient) -> None:
    sms = SmsPhone(supervisor, KHADIJA)
    sms.send("Z990000001 14092018")
    ussd = UssdPhone(supervisor, KHADIJA)
    ussd.dial()
    page = supervisor.get("/console/lookup", params={"phone": KHADIJA}).text
    conversations = page.split('id="conversations"')[1]
    assert "<td>ussd</td>" in conversations
    assert "<td>sms</td>" in conversations
    assert "Z990000001" not in page


def test_script_in_every_field_is_escaped(supervisor: TestClient) -> None:
    evil = "<script>alert(1)</script>"
    page = supervisor.get("/console/lookup", params={"phone": evil})
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
    client.get("/console/lookup", params={"phone": KHADIJA})
    first = list(counting.paths)
    counting.paths.clear()
    client.get("/console/lookup", params={"phone": KHADIJA})
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
