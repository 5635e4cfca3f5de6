"""A repeat of a request that the release before answered, arriving after the deploy.

Turns remember their answer under the same keys as before, but as the state layer's encoding
of the screen (`gateway.state.screens`) instead of each channel's own string. An answer the
release before remembered is still read, so the repeat is answered from it, once, with no
turn and no backend call: the USSD core's JSON list, Kannel SMS's (and the chat apps') JSON
object, Twilio's TwiML message. A voice call's TwiML cannot be read back: its repeat gets
"busy" and the call ends, never a second turn or a 500.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from twilio.twiml.messaging_response import MessagingResponse

from gateway.deps import runtime_of
from gateway.dialogs.model import ChannelKind, Option
from gateway.phones import to_e164
from tests.gateway.channels import test_kannel_sms
from tests.gateway.channels.conftest import total
from tests.gateway.channels.test_kannel_sms import KannelGateway, Recorded
from tests.gateway.channels.voice_call import FRENCH_VOICE, VoiceCall
from tests.gateway.conftest import SmsPhone, UssdPhone

pytestmark = pytest.mark.redis

make_kannel = test_kannel_sms.make_kannel  # the fixture: a gateway with the Kannel routes on
Calls = Callable[[], dict[str, dict[str, int]]]
GUARDIAN = "+212600000001"


def remember_before(client: TestClient, kind: ChannelKind, user: str, msg: str, raw: str) -> None:
    """What the release before kept for `msg` of `user` on `kind`, under the same key."""
    state = runtime_of(client.app)
    key = state.sessions.keys.seen(kind, user, msg)
    client.portal.call(state.redis.set, key, raw.encode(), 60)  # type: ignore[union-attr]


def test_a_ussd_screen_remembered_before_answers_its_repeat(
    gateway: TestClient, backend_calls: Calls
) -> None:
    phone = UssdPhone(gateway, GUARDIAN)
    before = json.dumps([0, "القائمة", [["1", "الغياب"], ["2", "النقط"]]], ensure_ascii=False)
    remember_before(gateway, ChannelKind.USSD, GUARDIAN, f"{phone.session_id}:", before)
    calls = total(backend_calls())
    assert phone.screen(phone.post("")) == "CON القائمة\n1. الغياب\n2. النقط"
    assert total(backend_calls()) == calls


def test_a_kannel_sms_reply_remembered_before_is_queued_once_from_it(
    make_kannel: Callable[..., KannelGateway], backend_calls: Calls
) -> None:
    kannel = make_kannel()
    call = Recorded.load("mo_text").fresh()
    phone = to_e164(call.param("from"))
    assert phone is not None
    before = {"text": "Menu", "options": [["1", "abs", "Absences"]], "child": "stu_7"}
    remember_before(kannel.client, ChannelKind.SMS, phone, call.param("id"), json.dumps(before))
    calls = total(backend_calls())
    for _ in range(2):
        assert call.send(kannel.client).status_code == 200
    (reply,) = kannel.queued()
    assert (reply.text, reply.options, reply.student) == (
        "Menu",
        (Option(key="1", id="abs", label="Absences"),),
        "stu_7",
    )
    assert total(backend_calls()) == calls


def test_a_twilio_sms_answer_remembered_before_is_sent_again_byte_for_byte(
    gateway: TestClient, backend_calls: Calls
) -> None:
    twiml = MessagingResponse()
    twiml.message("Notes & <résultats>\n1. Absences")
    remember_before(gateway, ChannelKind.SMS, GUARDIAN, "SM" + "7" * 32, str(twiml))
    calls = total(backend_calls())
    sms = SmsPhone(gateway, GUARDIAN)
    assert sms.send("MENU", sid="SM" + "7" * 32) == "Notes & <résultats>\n1. Absences"
    assert total(backend_calls()) == calls


def test_a_voice_answer_remembered_before_gets_busy_and_no_second_turn(
    gateway: TestClient, backend_calls: Calls
) -> None:
    call = VoiceCall(gateway, GUARDIAN)
    before = '<?xml version="1.0" encoding="UTF-8"?><Response><Gather action="/x"/></Response>'
    remember_before(gateway, ChannelKind.VOICE, call.sid, f"{call.sid}:3", before)
    calls = total(backend_calls())
    turn = call.press_at("/channels/voice/twilio/gather?t=3&m=menu&n=0&d=1&l=fr&k=1.1", "1")
    assert turn.hangs_up()
    assert turn.says() == [(FRENCH_VOICE, "Massar est saturé. Réessayez dans quelques minutes.")]
    assert total(backend_calls()) == calls
