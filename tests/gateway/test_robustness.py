"""Odd states of the world get an answer: an obsolete stored session, a garbled backend."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from fastapi.testclient import TestClient

from gateway.deps import runtime_of
from gateway.dialogs.model import ChannelKind, Lang, Session
from gateway.dialogs.texts import BUSY
from gateway.i18n import translator
from tests.gateway.conftest import SmsPhone

PHONE = "+212600000002"  # Naima, French


def test_a_session_in_a_state_this_release_does_not_know_restarts(gateway: TestClient) -> None:
    sessions = runtime_of(gateway.app).sessions
    old = Session(state="state_of_an_older_release", lang=Lang.FR, data={"x": 1})
    gateway.portal.call(  # type: ignore[union-attr]
        lambda: sessions.save(ChannelKind.SMS, PHONE, old, ttl_s=60)
    )
    reply = SmsPhone(gateway, PHONE).send("1")
    assert "Services Massar :" in reply


def test_a_backend_answer_that_breaks_the_contract_gets_busy(
    make_gateway: Callable[..., TestClient],
) -> None:
    def garbled(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"guardian": "not what the contract says"})

    gateway = make_gateway(backend_transport=httpx.MockTransport(garbled))
    reply = SmsPhone(gateway, PHONE).send("menu")
    assert reply == translator("fr").gettext(BUSY)
