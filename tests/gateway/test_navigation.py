"""Navigation keys on content screens act without reading the backend again."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.gateway.conftest import UssdPhone

ADMIN = {"Authorization": "Bearer sandbox-admin"}


def backend_calls(sandbox: TestClient, fragment: str) -> int:
    routes = sandbox.get("/_sandbox/stats", headers=ADMIN).json()["routes"]
    return sum(sum(counts.values()) for route, counts in routes.items() if fragment in route)


def test_menu_key_on_the_absences_screen_reads_no_absences(
    gateway: TestClient, sandbox_app: object
) -> None:
    sandbox = TestClient(sandbox_app)  # type: ignore[arg-type]
    phone = UssdPhone(gateway, "+212600000001")
    phone.dial()
    phone.press("1")
    phone.press("Z990000001")
    absences = phone.press("14092018")
    assert "9. " in absences  # more than one page in Arabic
    before = backend_calls(sandbox, "/absences")
    assert phone.press("0").startswith("CON خدمات مسار:")
    assert backend_calls(sandbox, "/absences") == before


def test_more_past_the_last_page_hints_and_stays(gateway: TestClient) -> None:
    phone = UssdPhone(gateway, "+212600000001")
    phone.dial()
    phone.press("1")
    phone.press("Z990000001")
    phone.press("14092018")
    last = phone.press("9")
    while "9. " in last:
        last = phone.press("9")
    again = phone.press("9")
    assert again.startswith("CON أجب برقم من القائمة.")
