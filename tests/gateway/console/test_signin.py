"""Sign-in, sessions and the guards every console page has: CSRF, roles, idle timeout."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from gateway.console.web import SESSION_COOKIE, _serializer
from tests.gateway.console.conftest import csrf_of, said, sign_in


def test_a_right_password_signs_in_with_a_strict_httponly_cookie(console: TestClient) -> None:
    response = sign_in(console, "amina")
    assert response.status_code == 303
    assert response.headers["location"] == "/console/lookup"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie or "samesite=strict" in cookie.lower()
    assert "Secure" not in cookie  # only in production
    page = console.get("/console/lookup")
    assert page.status_code == 200
    assert 'id="operator">amina (agent)' in page.text


def test_a_wrong_password_and_an_unknown_name_get_the_same_answer(console: TestClient) -> None:
    wrong = sign_in(console, "amina", "not-her-password")
    unknown = sign_in(console, "nobody", "whatever-password")
    assert wrong.status_code == unknown.status_code == 401
    assert said("Wrong name or password.") in wrong.text
    assert said("Wrong name or password.") in unknown.text


def test_repeated_failures_lock_the_name_even_for_the_right_password(console: TestClient) -> None:
    for _ in range(5):
        assert sign_in(console, "amina", "guess-guess-guess").status_code == 401
    locked = sign_in(console, "amina")
    assert locked.status_code == 429
    assert said("Too many failed sign-ins: wait 15 minutes or ask a supervisor.") in locked.text
    # An unknown name locks the same way: nothing tells which names exist.
    for _ in range(5):
        sign_in(console, "ghost", "guess-guess-guess")
    assert sign_in(console, "ghost", "guess-guess-guess").status_code == 429


def test_a_sign_in_posted_from_another_site_is_refused(console: TestClient) -> None:
    form = console.get("/console/signin")
    response = console.post(
        "/console/signin",
        data={"csrf": csrf_of(form.text), "name": "amina", "password": "agent-password-1"},
        headers={"Origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert said("This form was sent from another site.") in response.text
    assert SESSION_COOKIE not in response.headers.get("set-cookie", "")


def test_a_forged_csrf_token_is_refused(agent: TestClient) -> None:
    response = agent.post(
        "/console/lookup/verify",
        data={
            "csrf": "forged",
            "phone": "+212600000001",
            "code": "Z990000001",
            "birth_date": "14/09/2018",
        },
    )
    assert response.status_code == 403
    assert "Youssef" not in response.text
    sign_in_form = TestClient(agent.app, base_url="https://gw.test")
    no_cookie = sign_in_form.post(
        "/console/signin", data={"csrf": "x", "name": "amina", "password": "agent-password-1"}
    )
    assert no_cookie.status_code == 403


def test_an_agent_gets_403_on_supervisor_actions(agent: TestClient) -> None:
    csrf = csrf_of(agent.get("/console/lookup?phone=%2B212600000001").text)
    for action in ("clear-lockout", "revoke-binding"):
        response = agent.post(
            f"/console/actions/{action}",
            data={"csrf": csrf, "phone": "+212600000001", "reason": "caller asked", "student": "x"},
        )
        assert response.status_code == 403, action
        assert said("This action is for supervisors.") in response.text
    assert agent.get("/console/dashboard").status_code == 403
    assert agent.get("/console/actions/audit").status_code == 403


def test_an_idle_session_expires_and_says_so(console: TestClient) -> None:
    settings = console.app.state.settings  # type: ignore[attr-defined]
    stale = _serializer(settings).dumps(
        {"n": "samir", "r": "supervisor", "c": "x", "t": time.time() - 16 * 60}
    )
    console.cookies.set(SESSION_COOKIE, stale, domain="gw.test", path="/console")
    response = console.get("/console/lookup", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/console/signin?expired=1"
    page = console.get(response.headers["location"])
    assert said("Your session ended after 15 minutes without activity: sign in again.") in page.text


def test_a_tampered_cookie_is_not_a_session(console: TestClient) -> None:
    console.cookies.set(
        SESSION_COOKIE, "eyJuIjoic2FtaXIifQ.forged", domain="gw.test", path="/console"
    )
    response = console.get("/console/dashboard", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/console/signin"


def test_sign_out_ends_the_session(agent: TestClient) -> None:
    csrf = csrf_of(agent.get("/console/lookup").text)
    response = agent.post("/console/signout", data={"csrf": csrf}, follow_redirects=False)
    assert response.status_code == 303
    assert agent.get("/console/lookup", follow_redirects=False).status_code == 303


def test_pages_switch_language_and_direction(agent: TestClient) -> None:
    arabic = agent.get("/console/lookup?lang=ar")
    assert '<html lang="ar" dir="rtl">' in arabic.text
    assert agent.get("/console/lookup").text.count('dir="rtl"') >= 1  # the choice is kept
    french = agent.get("/console/lookup?lang=fr")
    assert '<html lang="fr" dir="ltr">' in french.text
