"""Verification lockout seen from the dialogs (DOMAIN.md §3): after three mismatches the phone
is cooled off on every channel, and even the right answer is not sent to the backend."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.gateway.conftest import SmsPhone, UssdPhone

PHONE = "+212600000002"  # Naima: child Z990000003, born 14/03/2012
ADMIN = {"Authorization": "Bearer sandbox-admin"}


def verify_calls(sandbox: TestClient) -> int:
    routes = sandbox.get("/_sandbox/stats", headers=ADMIN).json()["routes"]
    return sum(sum(counts.values()) for key, counts in routes.items() if "/students/verify" in key)


def test_three_mismatches_lock_the_phone_on_every_channel(
    gateway: TestClient, sandbox_app: object
) -> None:
    sandbox = TestClient(sandbox_app)  # type: ignore[arg-type]
    sms = SmsPhone(gateway, PHONE)
    before = verify_calls(sandbox)
    answers = [sms.send(f"Z990000003 0{day}032012") for day in (1, 2, 3)]
    assert verify_calls(sandbox) == before + 3
    assert "ne correspondent pas" in answers[0]
    assert "ne correspondent pas" in answers[1]
    assert "Trop d'essais" in answers[2]
    assert answers[0] == answers[1]  # the same words for every mismatch

    before += 3
    assert "Trop d'essais" in sms.send("Z990000003 14032012")  # the right answer, too late
    ussd = UssdPhone(gateway, PHONE)
    ussd.dial()
    ussd.press("1")
    assert ussd.last is not None
    assert ussd.last.text.startswith("END ")  # the cool-off holds on USSD as well
    assert verify_calls(sandbox) == before  # nothing more reached the backend
    assert "Adam" not in ussd.last.text


def test_every_mismatch_gets_the_same_answer(gateway: TestClient) -> None:
    """A wrong birth date and an unknown code are not told apart (no oracle for attackers)."""
    wrong_date = SmsPhone(gateway, PHONE).send("Z990000003 01012012")
    unknown_code = SmsPhone(gateway, "+212700000001").send("Z000000999 01012012")
    assert wrong_date.split("\n")[0] == unknown_code.split("\n")[0]
