"""Twilio Voice: the hotline's menu (`/channels/voice/twilio`, `/channels/voice/twilio/gather`),
CHANNELS.md §6–7, issue #14.

Whole calls are driven with the recorded forms of `tests/fixtures/twilio_voice/`, signed as
Twilio signs them over the URL each `<Gather>` names, and every answer is parsed as XML.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from gateway.channels.voice.twilio import GATHER_ROUTE, ROUTE, STATUS_ROUTE
from tests.gateway.channels.conftest import fixture
from tests.gateway.channels.voice_call import ARABIC_VOICE, FRENCH_VOICE, Turn, VoiceCall
from tests.gateway.conftest import PUBLIC_URL, SmsPhone, sign_twilio

GUARDIAN = "+212600000001"  # Youssef Z990000001 (14/09/2018), Salma Z990000002 (02/05/2008)
UNLINKED = "+212600000099"
AGENTS = "+212522000000"
CODE, BIRTH = "990000001", "14092018"  # Youssef's code without its letter, as a keypad types it
# What a voice must never be given: digits, and signs it reads aloud or badly.
UNSPEAKABLE = re.compile(r"[0-9/:%=+*#()\u0660-\u0669]")
LANG_KEY = {"ar": "1", "fr": "2"}
VOICE = {"ar": ARABIC_VOICE, "fr": FRENCH_VOICE}
HINTS = {"ar": ("تسعة", "صفر"), "fr": ("neuf", "zéro")}
WRONG_KEY_FR = "Cette touche n'est pas proposée ici."


@pytest.fixture
def hotline(make_gateway: Callable[..., TestClient]) -> TestClient:
    return make_gateway(hotline_agents_number=AGENTS)


def check_spoken(turn: Turn, lang: str | None = None) -> None:
    """No `<Say>` holds a digit or a symbol; every `<Gather>` has a way out."""
    for voice, text in turn.says():
        assert text.strip(), turn.root
        assert not UNSPEAKABLE.search(text), text
        if lang is not None:
            assert voice == VOICE[lang], (voice, text)
    for gather in turn.gathers():
        assert gather.get("input") == "dtmf"
        assert gather.get("action", "").startswith(GATHER_ROUTE + "?")
        assert gather.get("actionOnEmptyResult") == "true"  # silence comes back to us
        spoken = " ".join(s.text or "" for s in gather.iter("Say"))
        for lang_hints in HINTS.values():
            if any(h in spoken for h in lang_hints):
                assert all(h in spoken for h in lang_hints), spoken  # 9 repeats, 0 the agent
                break
        else:
            pytest.fail(f"no way out said in {spoken!r}")
    if turn.gathers():
        redirect = turn.root.find("Redirect")
        assert redirect is not None
        assert redirect.text == turn.action()


def verified_call(client: TestClient, lang: str, *, first: str = "1") -> VoiceCall:
    """A guardian's call that chose `lang`, asked for `first` and passed the check."""
    call = VoiceCall(client, GUARDIAN)
    check_spoken(call.start())
    check_spoken(call.press(LANG_KEY[lang]), lang)
    check_spoken(call.press(first), lang)
    assert call.last is not None
    assert call.last.gathers()[0].get("numDigits") == "9"
    check_spoken(call.press(CODE), lang)
    assert call.last.gathers()[0].get("numDigits") == "8"
    return call


# --- the call starts ------------------------------------------------------------------------


def test_a_call_starts_with_the_language_in_both_voices(hotline: TestClient) -> None:
    turn = VoiceCall(hotline, GUARDIAN).start()
    check_spoken(turn)
    (gather,) = turn.gathers()
    assert gather.get("numDigits") == "1"
    assert turn.says()[:2] == [
        (ARABIC_VOICE, "للعربية، اضغط واحد."),
        (FRENCH_VOICE, "Pour le français, tapez deux."),
    ]
    languages = [s.get("language") for s in turn.root.iter("Say")]
    assert set(languages) == {"arb", "fr-FR"}


@pytest.mark.parametrize("route", [ROUTE, GATHER_ROUTE + "?t=1&m=lang", STATUS_ROUTE])
def test_unsigned_or_forged_requests_get_403(hotline: TestClient, route: str) -> None:
    form = fixture("twilio_voice", "call_start")
    assert hotline.post(route, data=form).status_code == 403
    forged = sign_twilio(PUBLIC_URL + route, {**form, "From": "+212600000002"})
    response = hotline.post(route, data=form, headers={"X-Twilio-Signature": forged})
    assert response.status_code == 403
    other_token = sign_twilio(PUBLIC_URL + route, form, token="not-our-token")
    assert (
        hotline.post(route, data=form, headers={"X-Twilio-Signature": other_token}).status_code
        == 403
    )


# --- the demo calls (issue #14, "done when") ----------------------------------------------


@pytest.mark.parametrize("lang", ["ar", "fr"])
def test_the_demo_guardian_passes_the_check_and_hears_absences(
    hotline: TestClient, lang: str
) -> None:
    call = verified_call(hotline, lang)
    turn = call.press(BIRTH)
    check_spoken(turn, lang)
    text = turn.text()
    if lang == "fr":
        assert "Youssef a deux absences non justifiées depuis le lundi premier septembre." in text
        assert "Le lundi dix-huit mai, une heure d'absence." in text
    else:
        assert "لـيوسف غيابان غير مبررين منذ الاثنين فاتح شتنبر." in text
        assert "الاثنين ثمانية عشر ماي، ساعة غياب واحدة." in text
        # Justified hours, the number agreeing with the noun: two (a lateness is no hour).
        assert "المبررة، ساعتان في المجموع" in text or "ساعتان" in text, text


@pytest.mark.parametrize("lang", ["ar", "fr"])
def test_the_demo_guardian_hears_marks_in_words_piece_by_piece(
    hotline: TestClient, lang: str
) -> None:
    call = verified_call(hotline, lang, first="2")
    turn = call.press(BIRTH)  # the check passed: straight to the latest published marks
    check_spoken(turn, lang)
    first = turn.text()
    if lang == "fr":
        assert "Notes de Youssef, semestre un." in first
        assert "Langue arabe, notes onze virgule vingt-cinq, onze virgule soixante-quinze" in first
        assert "sur vingt." in first
        assert "Pour la suite, tapez un." in first
    else:
        assert "نقط يوسف، الدورة واحد." in first
        assert "المعدل أحد عشر فاصلة تسعة عشر من عشرين." in first
        assert "البقية، اضغط واحد." in first
    following = call.press("1")  # "1" for more
    check_spoken(following, lang)
    assert following.text() != first
    again = call.press("9")  # "9" repeats the piece just heard
    assert again.text() == following.text()


def test_a_phone_bound_by_sms_is_still_asked_for_the_check_on_a_call(hotline: TestClient) -> None:
    sms = SmsPhone(hotline, GUARDIAN)
    sms.send(f"Z{CODE} {BIRTH}")
    assert "يوسف" in sms.send("ABS")  # bound: SMS names him at once (in his guardian's Arabic)
    call = VoiceCall(hotline, GUARDIAN)
    call.start()
    call.press("1")
    turn = call.press("1")  # absences: the caller ID proves nothing, so the check first
    assert "يوسف" not in turn.text()
    assert turn.gathers()[0].get("numDigits") == "9"


def test_a_request_of_the_call_with_another_from_hears_no_child_data(hotline: TestClient) -> None:
    call = verified_call(hotline, "fr")
    assert "Youssef" in call.press(BIRTH).text()
    call.press("8")
    # Same call, signed, but another caller in `From`: what this call checked is not theirs.
    turn = call.press("1", From="+212600000002", Caller="+212600000002")
    check_spoken(turn, "fr")
    assert "Youssef" not in turn.text()
    assert "Adam" not in turn.text()


def test_a_wrong_birth_date_hears_no_child_data(hotline: TestClient) -> None:
    call = verified_call(hotline, "fr")
    turn = call.press("01012010")
    check_spoken(turn, "fr")
    assert "Youssef" not in turn.text()
    assert turn.gathers()[0].get("numDigits") == "9"  # the code again


@pytest.mark.parametrize(
    ("lang", "status"), [("fr", "en cours de traitement"), ("ar", "قيد الدراسة")]
)
def test_a_phone_linked_to_no_child_hears_a_pre_registration_status(
    hotline: TestClient, lang: str, status: str
) -> None:
    call = VoiceCall(hotline, UNLINKED)
    call.start()
    check_spoken(call.press(LANG_KEY[lang]), lang)
    prompt = call.press("1")  # pre-registration
    check_spoken(prompt, lang)
    assert prompt.gathers()[0].get("numDigits") == "11"
    check_spoken(call.press("20260000001"), lang)
    turn = call.press("01062020")
    check_spoken(turn, lang)
    assert status in turn.text()
    digits = "zéro zéro zéro zéro zéro zéro un" if lang == "fr" else "صفر صفر صفر صفر صفر صفر واحد"
    assert digits in turn.text()  # the application number read digit by digit


def test_a_withheld_number_still_gets_the_pre_registration_status(hotline: TestClient) -> None:
    call = VoiceCall(hotline, "anonymous")
    check_spoken(call.start("call_start_withheld"))
    call.press("2")
    turn = call.press("1")
    assert turn.gathers()[0].get("numDigits") == "11"
    call.press("20260000001")
    assert "en cours de traitement" in call.press("01062020").text()


def test_a_caller_over_a_sip_domain_is_known_by_the_number_in_its_uri(hotline: TestClient) -> None:
    call = VoiceCall(hotline, "sip:+212600000001@massar-hotline.sip.twilio.com")
    call.start("call_start_sip")
    menu = call.press("2")
    assert "Absences" in menu.text()  # the guardian's menu, not the unlinked one


# --- ways out -----------------------------------------------------------------------------


def test_zero_reaches_the_agents_from_every_screen(hotline: TestClient) -> None:
    call = verified_call(hotline, "fr")
    call.press(BIRTH)  # absences
    call.press("8")  # menu
    call.press("2")  # marks: which child
    call.press("1")  # which semester
    call.press("1")  # marks
    call.press("8")
    call.press("3")  # enrolment
    call.press("1")  # application number
    actions = [Turn(_parse(body)).action() for body in call.responses if "<Gather" in body]
    assert len(actions) >= 10
    for action in actions:
        turn = call.press_at(action, "0")
        assert turn.dialled() == AGENTS, action
        check_spoken(turn)


def test_silence_gets_a_polite_retry_then_the_agent(hotline: TestClient) -> None:
    call = VoiceCall(hotline, GUARDIAN)
    call.start()
    call.press("2")
    retry = call.wait()
    assert retry.says()[0] == (FRENCH_VOICE, "Je n'ai pas entendu de touche.")
    assert "Services Massar." in retry.text()
    assert call.wait().dialled() == AGENTS


@pytest.mark.parametrize("key", ["7", "*", "#", "1" * 40, "12"])
def test_a_key_nothing_answers_twice_reaches_the_agent(hotline: TestClient, key: str) -> None:
    call = VoiceCall(hotline, GUARDIAN)
    call.start()
    call.press("2")
    retry = call.press(key)
    check_spoken(retry, "fr")
    assert retry.says()[0][1] == "Cette touche n'est pas proposée ici."
    assert call.press(key).dialled() == AGENTS


def test_keys_in_the_language_menu_and_their_retry(hotline: TestClient) -> None:
    call = VoiceCall(hotline, GUARDIAN)
    call.start()
    again = call.press("5")
    check_spoken(again)
    assert again.says()[1] == (ARABIC_VOICE, "للعربية، اضغط واحد.")
    assert call.press("#").dialled() == AGENTS


def test_without_an_agents_number_zero_apologises_and_hangs_up(
    make_gateway: Callable[..., TestClient],
) -> None:
    call = VoiceCall(make_gateway(hotline_agents_number=None), GUARDIAN)
    call.start()
    turn = call.press("0")
    assert turn.dialled() is None
    assert turn.hangs_up()
    check_spoken(turn)


# --- retries, strangers, status callbacks ------------------------------------------------


def test_a_retry_of_the_same_request_gets_the_same_twiml(hotline: TestClient) -> None:
    call = verified_call(hotline, "fr")
    action = call.last.action() if call.last else ""
    call.press(BIRTH)
    first = call.responses[-1]
    call.press_at(action, BIRTH)
    assert call.responses[-1] == first


def test_a_gather_for_a_call_never_seen_starts_again_politely(hotline: TestClient) -> None:
    call = VoiceCall(hotline, GUARDIAN)
    turn = call.press_at(GATHER_ROUTE + "?t=7&m=menu&n=0&d=1&l=fr&k=1.1_2.2_8.0", "1")
    check_spoken(turn)
    assert "Votre appel précédent est terminé. Reprenons." in turn.text()
    assert "Youssef" not in turn.text()


def test_a_retry_of_a_turn_that_said_a_note_says_it_again(hotline: TestClient) -> None:
    """The note ("your call ended", "wrong key") is part of the screen the turn remembers:
    the retry hears it too, although its own turn found the session this one saved."""
    call = VoiceCall(hotline, GUARDIAN)
    action = GATHER_ROUTE + "?t=7&m=menu&n=0&d=1&l=fr&k=1.1_2.2_8.0"
    first = call.press_at(action, "1")
    assert "Votre appel précédent est terminé. Reprenons." in first.text()
    call.press_at(action, "1")
    assert call.responses[-1] == call.responses[-2]
    wrong = call.press("7")  # a key this menu does not offer
    assert wrong.text().startswith(WRONG_KEY_FR), wrong.text()
    call.press_at(first.action(), "7")
    assert call.responses[-1] == call.responses[-2]


def test_a_mangled_action_url_is_read_as_a_menu_with_no_keys(hotline: TestClient) -> None:
    call = VoiceCall(hotline, GUARDIAN)
    turn = call.press_at(GATHER_ROUTE + "?t=x&m=../&n=-1&d=999999&l=xx&k=1.abs.2..._", "1")
    check_spoken(turn)  # a 200 with a spoken menu, whatever the query says


def test_status_callbacks_in_any_order_get_an_empty_answer(hotline: TestClient) -> None:
    form = fixture("twilio_voice", "status_completed")
    for status in ("completed", "ringing", "in-progress", "completed"):
        data = {**form, "CallStatus": status}
        signature = sign_twilio(PUBLIC_URL + STATUS_ROUTE, data)
        response = hotline.post(STATUS_ROUTE, data=data, headers={"X-Twilio-Signature": signature})
        assert response.status_code == 204
        assert response.content == b""
    # Posted to the call's own URL (no status callback URL configured): empty TwiML.
    signature = sign_twilio(PUBLIC_URL + ROUTE, form)
    response = hotline.post(ROUTE, data=form, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200
    assert list(_parse(response.text)) == []


def test_a_form_without_call_sid_is_a_400(hotline: TestClient) -> None:
    form = {k: v for k, v in fixture("twilio_voice", "call_start").items() if k != "CallSid"}
    signature = sign_twilio(PUBLIC_URL + ROUTE, form)
    response = hotline.post(ROUTE, data=form, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 400


def _parse(body: str):  # type: ignore[no-untyped-def]
    from xml.etree import ElementTree

    return ElementTree.fromstring(body)  # noqa: S314 - our own answer


# --- every screen, by ear ----------------------------------------------------------------

# Presses that reach every state of the dialogs (DIALOGS README): help, enrolment, an
# application with a refused number and date first, absences after a refused code and the
# check, marks of a second child added on the way (its check), paged, the semester menu of the
# first child, re-registration; `8` goes back to the menu between them.
GUARDIAN_WALK = [
    "4", "8", "3", "1", "3", "20260000001", "99999999", "01062020", "8",
    "1", "12", CODE, BIRTH, "8",
    "2", "2", "990000002", "02052008", "1", "9", "8",
    "2", "2", "2", "8", "2", "2", "1", "8",
    "3", "2", "1", "8",
]  # fmt: skip
UNLINKED_WALK = ["2", "8", "1", "123", "20260000001", "01062020", "8", "1", "20260000009", "0106"]
REACHED = {
    "fr": ["Cette ligne", "Inscription.", "Demande P R E", "Youssef a deux absences",
           "Quel enfant ?", "Notes de Salma", "Notes, quel semestre ?", "Notes de Youssef",
           "Salma, aucune réinscription"],
    "ar": ["يقدم هذا الخط", "التسجيل.", "الطلب P R E", "لـيوسف غيابان", "أي طفل؟", "نقط سلمى",
           "النقط، أي دورة؟", "نقط يوسف"],
}  # fmt: skip


def walk(client: TestClient, phone: str, lang: str, presses: list[str]) -> str:
    """One call through `presses`; every answer checked; all that was said."""
    call = VoiceCall(client, phone)
    check_spoken(call.start())
    heard = []
    for key in [LANG_KEY[lang], *presses]:
        turn = call.press(key)
        check_spoken(turn, lang)
        assert turn.gathers(), (key, turn.text())  # never hung up on along the way
        heard.append(turn.text())
    return "\n".join(heard)


@pytest.fixture
def quick_caller(make_gateway: Callable[..., TestClient]) -> TestClient:
    """A caller who presses faster than anyone listens: past the 30 turns a minute of one call."""
    return make_gateway(hotline_agents_number=AGENTS, rate_limit_per_minute=200)


@pytest.mark.parametrize("lang", ["ar", "fr"])
def test_every_screen_of_a_guardian_is_spoken_with_a_way_out(
    quick_caller: TestClient, lang: str
) -> None:
    heard = walk(quick_caller, GUARDIAN, lang, GUARDIAN_WALK)
    for start in REACHED[lang]:
        assert start in heard, start


@pytest.mark.parametrize("lang", ["ar", "fr"])
def test_every_screen_of_an_unlinked_caller_is_spoken_with_a_way_out(
    hotline: TestClient, lang: str
) -> None:
    heard = walk(hotline, UNLINKED, lang, UNLINKED_WALK)
    assert ("en cours de traitement" if lang == "fr" else "قيد الدراسة") in heard
