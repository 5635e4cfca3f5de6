"""An expired session is a designed state: the user is told, and lands on the menu."""

from __future__ import annotations

from fastapi.testclient import TestClient

from gateway.deps import runtime_of
from gateway.dialogs.model import ChannelKind
from tests.gateway.conftest import SmsPhone, UssdPhone


def expire(client: TestClient, channel: ChannelKind, phone: str) -> None:
    sessions = runtime_of(client.app).sessions
    client.portal.call(sessions.delete, channel, phone)  # type: ignore[union-attr]


def test_a_menu_key_after_the_sms_session_expired_says_so(gateway: TestClient) -> None:
    sms = SmsPhone(gateway, "+212600000002")  # prefers French
    assert "Services Massar" in sms.send("menu")
    expire(gateway, ChannelKind.SMS, "+212600000002")
    reply = sms.send("2")
    assert reply.startswith("Votre session précédente est terminée.\nServices Massar :")


def test_a_new_ussd_dial_starts_over_without_a_warning(gateway: TestClient) -> None:
    phone = UssdPhone(gateway, "+212600000001")
    phone.dial()
    phone.press("1")  # at the Massar code prompt
    again = phone.dial()  # a new AT session: a new conversation, not an expired one
    assert again.startswith("CON خدمات مسار:")
    assert "انتهت" not in again


def test_free_text_without_a_session_gets_the_menu_with_a_hint(gateway: TestClient) -> None:
    reply = SmsPhone(gateway, "+212600000002").send("je voudrais savoir quelque chose")
    assert reply.startswith("Désolé, je n'ai pas compris.\nServices Massar :")
