"""A hotline call when Massar is too slow for a live answer: the caller hears that the answer
follows by SMS, and it does, through the outbox, to the caller's phone (issue #14, item 6)."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.gateway.channels.test_twilio_voice import BIRTH, GUARDIAN, check_spoken, verified_call
from tests.gateway.conftest import (  # noqa: F401 (fixtures)
    sandbox_app,
    sandbox_database,
    seeded_sandbox_file,
)
from tests.resilience.conftest import FaultyTransport, faulty_gateway  # noqa: F401 (fixture)

ADMIN = "admin-token-for-tests"
Make = Callable[..., tuple[TestClient, FaultyTransport]]


def messages(client: TestClient) -> list[dict[str, object]]:
    response = client.get(
        "/admin/messages", params={"to": GUARDIAN}, headers={"Authorization": f"Bearer {ADMIN}"}
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, object]] = response.json()["items"]
    return items


def wait_for_message(client: TestClient, timeout_s: float = 15.0) -> dict[str, object]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        items = messages(client)
        if items and items[0].get("text"):
            return items[0]
        time.sleep(0.05)
    raise AssertionError("no SMS followed the call")


@pytest.mark.parametrize(("lang", "said"), [("fr", "suivra par SMS"), ("ar", "برسالة قصيرة")])
def test_a_slow_answer_is_promised_by_sms_and_sent_there(
    faulty_gateway: Make,  # noqa: F811
    lang: str,
    said: str,
) -> None:
    client, transport = faulty_gateway(embedded_sender=True, admin_token=ADMIN)
    call = verified_call(client, lang)
    call.press(BIRTH)  # the check passed, the absences heard (and cached)
    call.press("8")  # the menu
    call.press("2")  # marks: which child
    call.press("1")  # Youssef: which semester
    transport.slow = ("/grades",)
    transport.delay = 6.0  # past the backend's per-call timeout: the live turn gives up
    turn = call.press("1")
    check_spoken(turn, lang)
    assert said in turn.text()
    assert turn.hangs_up()
    transport.slow = ()
    sms = wait_for_message(client)
    assert ("يوسف" if lang == "ar" else "Youssef") in str(sms["text"])


def test_the_follow_up_needs_no_network(faulty_gateway: Make) -> None:  # noqa: F811
    client, _ = faulty_gateway(
        embedded_sender=True, admin_token=ADMIN, provider_transport=httpx.MockTransport(_refuse)
    )
    assert messages(client) == []


def _refuse(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"a test called the network: {request.url}")
