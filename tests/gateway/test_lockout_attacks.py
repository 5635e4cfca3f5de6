"""Lockouts no stranger can turn against a family (issue #21), tried as the attacker would,
through the real routes, the real sandbox and Redis:

- strangers who know a child's code (it is printed on class lists) fail on it from many
  phones: the code locks for them, never for the phone Massar links to that child;
- a caller who spoofs a parent's number on the hotline and fails the check locks that call
  and that number's voice attempts, never the parent's SMS or USSD.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from gateway.deps import runtime_of
from tests.gateway.channels.voice_call import VoiceCall
from tests.gateway.conftest import SmsPhone, UssdPhone
from tests.gateway.test_lockout import verify_calls

NAIMA = "+212600000002"  # mother of Adam, Z990000003, born 14/03/2012
RACHID = "+212700000001"  # father of Youssef and Salma (French): a stranger to Adam
CODE, RIGHT, WRONG = "Z990000003", "14032012", "01032012"
STRANGERS = [f"+2126991000{i:02d}" for i in range(12)]  # a box of SIM cards
NO_MATCH, LOCKED = "ne correspondent pas", "Trop d'essais"


@pytest.fixture
def hotline(make_gateway: Callable[..., TestClient]) -> TestClient:
    return make_gateway(hotline_agents_number="+212522000000")


def test_strangers_failing_on_a_childs_code_do_not_lock_out_its_parent(
    gateway: TestClient, sandbox_app: object
) -> None:
    sandbox = TestClient(sandbox_app)  # type: ignore[arg-type]
    lockout = runtime_of(gateway.app).turns.dialog.lockout
    before = verify_calls(sandbox)
    # A guardian of other children tries Adam's code: the same answer as any mismatch, and
    # the backend is not asked (its check needs a link this phone does not have).
    assert NO_MATCH in SmsPhone(gateway, RACHID).send(f"{CODE} {WRONG}")
    assert verify_calls(sandbox) == before
    for phone in STRANGERS:  # … and a dozen more SIMs: the code locks
        gateway.portal.call(lockout.record_failure, phone, CODE)  # type: ignore[union-attr]
    assert LOCKED in SmsPhone(gateway, RACHID).send(f"{CODE} {WRONG}")
    assert verify_calls(sandbox) == before

    naima = SmsPhone(gateway, NAIMA)
    assert NO_MATCH in naima.send(f"{CODE} {WRONG}")  # her own mistake still counts…
    assert verify_calls(sandbox) == before + 1
    answer = naima.send(f"{CODE} {RIGHT}")  # … but the strangers' do not stop her
    assert LOCKED not in answer
    assert "Adam" in answer
    assert verify_calls(sandbox) == before + 2


def test_a_parents_own_counter_still_applies_under_a_locked_code(gateway: TestClient) -> None:
    lockout = runtime_of(gateway.app).turns.dialog.lockout
    for phone in STRANGERS:
        gateway.portal.call(lockout.record_failure, phone, CODE)  # type: ignore[union-attr]
    naima = SmsPhone(gateway, NAIMA)
    answers = [naima.send(f"{CODE} 0{day}032012") for day in (1, 2, 3)]
    assert [LOCKED in a for a in answers] == [False, False, True]  # 3 failures: cool-off
    assert LOCKED in naima.send(f"{CODE} {RIGHT}")


def failed_call(client: TestClient, phone: str, failures: int) -> VoiceCall:
    """A call from `phone` (a caller ID anyone can set) that fails the check `failures` times."""
    call = VoiceCall(client, phone)
    call.start()
    call.press("2")  # French
    call.press("1")  # absences: the code first
    for _ in range(failures):
        call.press(CODE[1:])  # a keypad types the nine digits
        call.press(WRONG)
    return call


def test_a_spoofed_caller_id_failing_on_voice_does_not_lock_that_number_elsewhere(
    hotline: TestClient, sandbox_app: object
) -> None:
    sandbox = TestClient(sandbox_app)  # type: ignore[arg-type]
    before = verify_calls(sandbox)
    call = failed_call(hotline, NAIMA, failures=2)
    assert call.last is not None
    assert "Trop" in call.last.text()  # the call is locked
    # Another call with the same caller ID: its voice attempts are locked too…
    again = VoiceCall(hotline, NAIMA)
    again.start()
    again.press("2")
    assert "Trop" in again.press("1").text()
    # … and the backend saw two failures, under its own cool-off (three).
    assert verify_calls(sandbox) == before + 2

    # The number itself, where the operator vouches for it, is not locked.
    ussd = UssdPhone(hotline, NAIMA)
    ussd.dial()
    assert ussd.press("1").startswith("CON ")  # the code prompt, not the lockout
    answer = SmsPhone(hotline, NAIMA).send(f"{CODE} {RIGHT}")
    assert LOCKED not in answer
    assert "Adam" in answer


def test_a_calls_failures_lock_the_call_whatever_number_it_claims(hotline: TestClient) -> None:
    call = failed_call(hotline, NAIMA, failures=1)
    call.press(CODE[1:], From=RACHID, Caller=RACHID)  # the same call, another caller ID
    turn = call.press(WRONG, From=RACHID, Caller=RACHID)
    assert "Trop" in turn.text()  # two failures in one call lock it
    # Neither number is locked on SMS.
    assert LOCKED not in SmsPhone(hotline, NAIMA).send("menu")
    assert LOCKED not in SmsPhone(hotline, RACHID).send(f"{CODE} {WRONG}")
