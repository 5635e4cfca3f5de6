"""A slow live turn speaks the parent's language on the screen and in the one SMS that
follows (issue 22)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from fastapi.testclient import TestClient

from gateway.dialogs import texts
from gateway.dialogs.pages import gsm_fold
from gateway.i18n import translator
from tests.gateway.conftest import (  # noqa: F401 (fixtures)
    SmsPhone,
    UssdPhone,
    sandbox_app,
    sandbox_database,
    seeded_sandbox_file,
)
from tests.outbox.test_outbox_gateway import ACCOUNT, TwilioApi, wait_until
from tests.resilience.conftest import FaultyTransport, faulty_gateway  # noqa: F401 (fixture)

pytestmark = pytest.mark.redis
Make = Callable[..., tuple[TestClient, FaultyTransport]]


def slow_gateway(make: Make) -> tuple[TestClient, FaultyTransport, TwilioApi]:
    api = TwilioApi()
    client, transport = make(
        embedded_sender=True,
        sms_sender="twilio",
        twilio_account_sid=ACCOUNT,
        twilio_sms_from="+212522000000",
        provider_transport=httpx.MockTransport(api),
    )
    return client, transport, api


def settle(api: TwilioApi) -> list[str]:
    """The SMS bodies sent, once the outbox has nothing left to send."""
    wait_until(lambda: len(api.requests) >= 1, "the SMS at Twilio")
    client_idle = 0
    seen = -1
    while client_idle < 20:  # the count stays put for 20 looks: nothing more is coming
        wait_until(lambda: True, "a look")
        client_idle = client_idle + 1 if len(api.requests) == seen else 0
        seen = len(api.requests)
    return [form["Body"][0] for form in api.sent()]


def test_a_french_parent_who_chose_french_gets_the_notice_and_one_sms_in_french(
    faulty_gateway: Make,  # noqa: F811
) -> None:
    client, transport, api = slow_gateway(faulty_gateway)
    guardian = "+212600000001"  # Massar says Arabic; the parent chose French by SMS
    sms = SmsPhone(client, guardian)
    assert "Services Massar" in sms.send("FR")
    assert sms.send("Z990000001 14092018").startswith("Youssef")  # bound: one child
    phone = UssdPhone(client, guardian)
    assert phone.dial().startswith("CON Services Massar")
    transport.slow = ("/absences",)
    notice = "END " + gsm_fold(translator("fr").gettext(texts.ANSWER_BY_SMS))
    assert phone.press("1").startswith("CON Quel enfant")
    assert phone.press("1") == notice
    phone.dial()
    phone.press("1")
    assert phone.press("1") == notice  # asked again while Massar is still slow
    bodies = settle(api)
    assert len(bodies) == 1  # one question, one SMS
    assert bodies[0].startswith("Youssef : ")
    assert "non justifi" in bodies[0]


def test_the_follow_up_of_a_cold_dial_speaks_the_guardians_language(
    faulty_gateway: Make,  # noqa: F811
) -> None:
    client, transport, api = slow_gateway(faulty_gateway)
    transport.slow = ("/guardians/lookup",)
    phone = UssdPhone(client, "+212700000001")  # Massar: French
    # Nothing known yet about this phone while Massar is slow: the default language.
    assert phone.dial() == "END " + translator("ar").gettext(texts.ANSWER_BY_SMS)
    assert phone.dial() == "END " + translator("ar").gettext(texts.ANSWER_BY_SMS)
    [body] = settle(api)
    assert body.startswith("Services Massar")  # the SMS knows: Massar's preferred_lang
