"""The alerts menu attacked: at the hotline, where a caller ID proves nothing, "Alerts" asks
for a child's code and birth date first, and a caller who cannot give them changes nothing of
the phone's alerts; a tapped option id that no menu offered changes nothing either; a choice
is stored for the sender's phone only."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from gateway.deps import runtime_of
from gateway.dialogs import spoken_texts
from gateway.spoken import spoken_translator
from gateway.state.alerts.preferences import AlertPreference
from gateway.text import is_gsm7, screen_length
from tests.gateway.channels.voice_call import VoiceCall
from tests.gateway.chat.conftest import make_chat_gateway  # noqa: F401 (fixture)
from tests.gateway.chat.handsets import ChatGateway, TelegramHandset
from tests.gateway.conftest import SmsPhone, UssdPhone

KHADIJA, RACHID = "+212600000001", "+212700000001"


def stored(client: TestClient, phone: str) -> AlertPreference:
    prefs = runtime_of(client.app).preferences
    found: dict[str, AlertPreference] = client.portal.call(prefs.for_phones, [phone])  # type: ignore[union-attr]
    return found[phone]


def test_a_caller_who_proves_no_child_cannot_touch_the_phone_s_alerts(
    make_gateway: Callable[..., TestClient],
) -> None:
    gateway = make_gateway()
    call = VoiceCall(gateway, RACHID)  # a forged caller ID: the caller knows no child
    call.start()
    call.press("2")  # French
    asked = call.press("5").text()  # "Alerts"
    assert asked.startswith(spoken_translator("fr").gettext(spoken_texts.ASK_CODE))
    call.press("990000001")
    refused = call.press("01012001").text()  # a wrong birth date
    assert "Alertes" not in refused
    for key in ("3", "6"):  # at the code prompt these are digits, not choices
        call.press(key)
    assert stored(gateway, RACHID) == AlertPreference()  # nothing changed


def test_an_option_id_no_menu_offered_changes_nothing(
    make_chat_gateway: Callable[..., ChatGateway],  # noqa: F811
) -> None:
    chat = make_chat_gateway()
    handset = TelegramHandset(chat, KHADIJA)
    handset.share_contact()
    screen = handset.type("ABS")  # a screen without the alerts menu
    shown = handset.tap(screen, "alert:weekly")  # a forged callback
    assert stored(chat.client, KHADIJA) == AlertPreference()
    assert shown.text  # answered, not crashed


def test_a_choice_is_the_sender_s_own_and_no_one_else_s(
    make_gateway: Callable[..., TestClient],
) -> None:
    gateway = make_gateway()
    phone = SmsPhone(gateway, KHADIJA)
    phone.send("ALERTES")
    phone.send("3")
    assert stored(gateway, KHADIJA).weekly
    assert stored(gateway, RACHID) == AlertPreference()  # her co-guardian chose nothing


def test_every_choice_is_confirmed_within_one_ussd_screen(
    make_gateway: Callable[..., TestClient],
) -> None:
    gateway = make_gateway()
    for phone in (KHADIJA, RACHID):  # Arabic (80 UCS-2 characters), French (160 GSM-7)
        for choice in "123456":
            handset = UssdPhone(gateway, phone)
            handset.dial()
            menu = handset.press("6")
            confirmed = handset.press(choice)
            for screen in (menu, confirmed):
                body = screen[4:]
                limit = 160 if is_gsm7(body) else 80
                assert screen_length(body) <= limit, screen
            assert "9. " not in confirmed  # one page: nothing to read further
            assert ".." not in confirmed  # never cut


def test_an_arabic_ussd_menu_with_a_hint_leaves_alerts_out_and_still_answers_6(
    make_gateway: Callable[..., TestClient],
) -> None:
    gateway = make_gateway()
    handset = UssdPhone(gateway, KHADIJA)
    handset.dial()
    hinted = handset.press("7")  # no such option: the hint and the menu again
    assert "6. " not in hinted  # no room beside the hint in 80 Arabic characters
    assert screen_length(hinted[4:]) <= 80
    assert handset.press("6").startswith("CON التنبيهات:")  # typed, it still opens the menu
