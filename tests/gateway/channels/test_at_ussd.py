"""Africa's Talking USSD adapter (`POST /channels/ussd/africastalking?token=…`, CHANNELS.md §5).

Recorded forms from `tests/fixtures/africastalking/`, posted to the gateway wired in-process to
the seeded sandbox. The sandbox's call counter (`/_sandbox/stats`) says whether a request
reached the backend.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from fastapi.testclient import TestClient

from gateway.channels.common import MAX_BODY_BYTES, PayloadError
from gateway.channels.ussd import africastalking
from gateway.dialogs import texts
from gateway.dialogs.pages import gsm_fold
from gateway.i18n import translator
from gateway.text import is_gsm7, screen_length
from tests.gateway.channels.conftest import (
    HeldBackend,
    SpareGuardian,
    fixture,
    lang_of,
    send_twice_while_the_first_waits,
    total,
    wrong_date,
)
from tests.gateway.conftest import AT_TOKEN, UssdPhone

ROUTE = africastalking.ROUTE
GUARDIAN = "+212600000001"  # prefers Arabic; Youssef Z990000001 (14/09/2018), Salma Z990000002
FR_GUARDIAN = "+212600000002"  # prefers French; Adam Z990000003 (14/03/2012)
UNLINKED = "+212600000099"  # a guardian record with no student
SANDBOX_ADMIN = {"Authorization": "Bearer sandbox-admin"}

# What one USSD screen can carry (CHANNELS.md §5, §8): 160 bytes, i.e. 182 GSM-7 characters,
# or 80 characters as soon as one character needs UCS-2 (Arabic, but also "ç" or "العربية").
MAX_GSM7 = 182
MAX_UCS2 = 80

Calls = Callable[[], dict[str, dict[str, int]]]


def say(lang: str, msgid: str, **values: object) -> str:
    """A catalog sentence as the engine shows it (French folded to GSM-7 letters)."""
    text = translator(lang).gettext(msgid, **values)
    return gsm_fold(text) if lang == "fr" else text


def main_menu(lang: str) -> str:
    switch = "Français" if lang == "ar" else "Arabe"
    keys = [texts.ABSENCES, texts.MARKS, texts.ENROLMENT, texts.HELP]
    lines = [f"{i}. {say(lang, msgid)}" for i, msgid in enumerate(keys, start=1)]
    alerts = f"6. {say(lang, texts.ALERTS)}"  # the alerts menu (issue #26)
    return "\n".join([say(lang, texts.MAIN_TITLE), *lines, f"5. {switch}", alerts])


def unlinked_menu(lang: str) -> str:
    switch = "Français" if lang == "ar" else "Arabe"
    return "\n".join(
        [
            say(lang, texts.UNLINKED),
            f"1. {say(lang, texts.PREREGISTRATION_STATUS)}",
            f"2. {say(lang, texts.HELP)}",
            f"3. {switch}",
        ]
    )


def prompt(lang: str, msgid: str) -> str:
    return f"{say(lang, msgid)}\n0. {say(lang, texts.MENU)}"


def post(
    client: TestClient, form: dict[str, str], *, token: str | None = AT_TOKEN
) -> httpx.Response:
    params = {} if token is None else {"token": token}
    return client.post(ROUTE, params=params, data=form)


def over_budget(screen: str) -> str | None:
    """Why `screen` (a whole response body) cannot be shown on a handset, or None."""
    body = screen.removeprefix("CON ").removeprefix("END ")
    limit = MAX_GSM7 if is_gsm7(body) else MAX_UCS2
    length = screen_length(body)
    encoding = "GSM-7" if is_gsm7(body) else "UCS-2"
    return None if length <= limit else f"{length} {encoding} > {limit}: {body!r}"


# --- parse_payload: the form as AT sends it, no HTTP ---------------------------------------


@pytest.mark.parametrize(
    ("name", "changes", "phone", "text"),
    [
        pytest.param("dial", {}, GUARDIAN, "", id="dial"),
        pytest.param("menu_choice", {}, GUARDIAN, "1", id="menu-choice"),
        pytest.param("long_path", {}, GUARDIAN, "1*Z990000001*14092018", id="long-path"),
        pytest.param("dial_unlinked", {}, UNLINKED, "", id="unlinked"),
        pytest.param("dial", {"phoneNumber": "0600000001"}, GUARDIAN, "", id="national-format"),
        pytest.param("dial", {"phoneNumber": "212600000001"}, GUARDIAN, "", id="no-plus"),
        pytest.param("dial", {"phoneNumber": "+212 6 00 00 00 01"}, GUARDIAN, "", id="spaces"),
        pytest.param(
            "dial", {"phoneNumber": "+٢١٢٦٠٠٠٠٠٠٠١"}, GUARDIAN, "", id="arabic-indic-digits"
        ),
    ],
)
def test_parse_payload_reads_the_recorded_forms(
    name: str, changes: dict[str, str], phone: str, text: str
) -> None:
    form = {**fixture("africastalking", name), **changes}
    req = africastalking.parse_payload(form)
    assert req.session_id == form["sessionId"]
    assert req.service_code == "*2020#"
    assert req.phone == phone
    assert req.network_code == form["networkCode"]
    assert req.text == text


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        pytest.param({"sessionId": None}, "sessionId missing", id="no-session-id"),
        pytest.param({"sessionId": "   "}, "sessionId missing", id="blank-session-id"),
        pytest.param({"sessionId": "A" * 129}, "sessionId missing", id="session-id-too-long"),
        pytest.param({"phoneNumber": None}, "phoneNumber is not a phone number", id="no-phone"),
        pytest.param({"phoneNumber": "hello"}, "phoneNumber is not a phone number", id="words"),
        pytest.param({"phoneNumber": "+2126"}, "phoneNumber is not a phone number", id="short"),
        pytest.param(
            {"phoneNumber": "+2126000000011234"}, "phoneNumber is not a phone number", id="long"
        ),
    ],
)
def test_parse_payload_refuses_a_form_without_a_session_or_phone(
    changes: dict[str, str | None], reason: str
) -> None:
    form: dict[str, str] = dict(fixture("africastalking", "menu_choice"))
    for field, value in changes.items():
        if value is None:
            form.pop(field)
        else:
            form[field] = value
    with pytest.raises(PayloadError) as caught:
        africastalking.parse_payload(form)
    assert caught.value.reason == reason


# --- refused requests: 403 / 400, plain text, nothing reaches the backend ---------------------


@pytest.mark.parametrize(
    ("token", "changes", "status", "reason"),
    [
        pytest.param(None, {}, 403, "bad token", id="no-token"),
        pytest.param("", {}, 403, "bad token", id="empty-token"),
        pytest.param("test-at-tokeN", {}, 403, "bad token", id="wrong-token"),
        pytest.param(AT_TOKEN + "x", {}, 403, "bad token", id="token-with-suffix"),
        pytest.param(None, {"token": AT_TOKEN}, 403, "bad token", id="token-in-body-not-url"),
        pytest.param(AT_TOKEN, {"sessionId": None}, 400, "sessionId missing", id="no-session"),
        pytest.param(AT_TOKEN, {"sessionId": ""}, 400, "sessionId missing", id="empty-session"),
        pytest.param(
            AT_TOKEN,
            {"phoneNumber": "not-a-number"},
            400,
            "phoneNumber is not a phone number",
            id="phone-not-a-number",
        ),
        pytest.param(
            AT_TOKEN,
            {"phoneNumber": None},
            400,
            "phoneNumber is not a phone number",
            id="no-phone",
        ),
        pytest.param(
            AT_TOKEN, {"text": "1" * MAX_BODY_BYTES}, 413, "body too large", id="body-too-large"
        ),
    ],
)
def test_refused_request_gets_a_short_plain_reason_and_no_backend_call(
    gateway: TestClient,
    backend_calls: Calls,
    token: str | None,
    changes: dict[str, str | None],
    status: int,
    reason: str,
) -> None:
    form: dict[str, str] = dict(fixture("africastalking", "menu_choice"))
    for field, value in changes.items():
        if value is None:
            form.pop(field)
        else:
            form[field] = value
    response = post(gateway, form, token=token)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == reason
    assert "Traceback" not in response.text
    assert backend_calls() == {}


def test_body_that_is_not_utf8_is_refused_with_400(
    gateway: TestClient, backend_calls: Calls
) -> None:
    response = gateway.post(
        ROUTE,
        params={"token": AT_TOKEN},
        content=b"sessionId=ATUid_1&phoneNumber=%2B212600000001&text=\xff\xfe",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 400
    assert response.text == "body is not UTF-8"
    assert backend_calls() == {}


# --- screens ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "changes", "expected"),
    [
        pytest.param("dial", {}, "CON " + main_menu("ar"), id="arabic-guardian"),
        pytest.param(
            "dial", {"phoneNumber": FR_GUARDIAN}, "CON " + main_menu("fr"), id="french-guardian"
        ),
        pytest.param("dial_unlinked", {}, "CON " + unlinked_menu("ar"), id="unlinked-phone"),
    ],
)
def test_dial_shows_the_numbered_menu_in_the_guardians_language(
    gateway: TestClient, name: str, changes: dict[str, str], expected: str
) -> None:
    response = post(gateway, {**fixture("africastalking", name), **changes})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.text == expected


def test_recorded_walk_binds_a_child_and_reads_its_absences(gateway: TestClient) -> None:
    dial = fixture("africastalking", "dial")
    long_path = fixture("africastalking", "long_path")
    code_step = {**long_path, "text": "1*Z990000001"}
    screens = [post(gateway, form) for form in (dial, fixture("africastalking", "menu_choice"))]
    screens += [post(gateway, code_step), post(gateway, long_path)]
    assert [r.status_code for r in screens] == [200] * 4
    menu, ask_code, ask_dob, absences = (r.text for r in screens)
    assert menu == "CON " + main_menu("ar")
    assert ask_code == "CON " + prompt("ar", texts.ASK_CODE)
    assert ask_dob == "CON " + prompt("ar", texts.ASK_CHILD_DOB)
    assert absences.startswith("CON يوسف: ")
    assert absences.endswith(f"\n0. {say('ar', texts.MENU)}")
    assert "Z990000001" not in absences
    assert "14092018" not in absences


def test_a_bound_child_stays_bound_in_the_next_session(gateway: TestClient) -> None:
    phone = UssdPhone(gateway, GUARDIAN)
    phone.dial()
    for key in ("1", "Z990000001", "14092018"):
        phone.press(key)
    phone.dial()  # a new USSD session
    which = phone.press("1")
    assert which.startswith("CON " + say("ar", texts.CHOOSE_CHILD))
    assert "\n1. يوسف (2AP)\n" in which
    assert "سلمى" not in which  # Salma is linked but not bound by this phone
    assert phone.press("1").startswith("CON يوسف: ")


def test_too_many_failed_verifications_end_the_session(
    gateway: TestClient, spare_guardians: list[SpareGuardian]
) -> None:
    spare = spare_guardians[0]
    phone = UssdPhone(gateway, spare.phone)
    lang = lang_of(phone.dial())
    phone.press("1")
    screens = []
    for attempt in range(1, 4):  # codes nobody has, so no real child's counter moves
        phone.press(f"Z00000000{attempt}")
        screens.append(phone.press("01012015"))
    no_match = say(lang, texts.NO_MATCH)
    assert screens[0] == f"CON {no_match}\n{prompt(lang, texts.ASK_CODE)}"
    assert screens[1].startswith(f"CON {no_match}")
    # How long to wait (the 15-minute cool-off) and the hotline: never a dead end.
    locked = translator(lang).ngettext(texts.LOCKED_MINUTES, 15)
    assert screens[2] == "END " + (gsm_fold(locked) if lang == "fr" else locked)
    assert "0800 00 11 22" in screens[2]
    phone.dial()
    assert phone.press("1") == "END " + (gsm_fold(locked) if lang == "fr" else locked)


def test_a_backend_that_is_down_gets_a_final_screen_promising_an_sms(
    gateway: TestClient, sandbox_app: object
) -> None:
    sandbox = TestClient(sandbox_app)  # type: ignore[arg-type]
    down = sandbox.put("/_sandbox/chaos", json={"down": True}, headers=SANDBOX_ADMIN)
    assert down.status_code == 200, down.text
    response = post(gateway, fixture("africastalking", "dial"))
    assert response.status_code == 200
    assert response.text == "END " + say("ar", texts.ANSWER_BY_SMS)


# --- odd inputs ------------------------------------------------------------------------------

ODD_INPUTS = [
    pytest.param("7", "ar", id="unknown-option"),
    pytest.param("99", "ar", id="unknown-two-digit-option"),
    pytest.param("*", "ar", id="star"),
    pytest.param("#", "ar", id="hash"),
    pytest.param("**", "ar", id="two-stars"),
    pytest.param("1*", "ar", id="empty-input-after-a-choice"),
    pytest.param("😀", "ar", id="emoji"),
    pytest.param("🇲🇦👍🏽", "ar", id="flag-and-skin-tone"),
    pytest.param("xyz غغغ", "ar", id="mixed-scripts"),
    pytest.param("٧", "ar", id="eastern-arabic-unknown-option"),
    pytest.param("1234567890" * 200, "ar", id="2000-digits"),
    pytest.param(("1*" * 1000)[:2000], "ar", id="2000-char-path"),
    pytest.param("ههههه " * 333, "ar", id="2000-arabic-chars"),
    # The session is in Arabic (the guardian's language): a French sentence does not switch it.
    pytest.param("Je voudrais un rendez-vous", "ar", id="french-sentence-in-an-arabic-session"),
]


@pytest.mark.parametrize(("text", "lang"), ODD_INPUTS)
def test_odd_input_at_the_menu_gets_a_hint_and_the_menu_again(
    gateway: TestClient, text: str, lang: str
) -> None:
    phone = UssdPhone(gateway, GUARDIAN)
    phone.dial()
    response = phone.post(text)
    assert response.status_code == 200
    screen = response.text
    assert screen.startswith(f"CON {say(lang, texts.PICK_AN_OPTION)}\n"), screen
    options = main_menu(lang).split("\n")[1:]  # the title may give way to the hint
    if lang == "ar":  # and, in 80 Arabic characters, the alerts entry (typing 6 still works)
        options = options[:-1]
    assert screen.endswith("\n".join(options)), screen
    assert over_budget(screen) is None


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        pytest.param("abs غياب", "ar", id="mixed-scripts"),
        pytest.param("بغيت نعرف الغياب ديال ولدي " * 74, "ar", id="2000-arabic-chars"),
        # The session is in the guardian's Arabic: a French sentence keeps it (issue 22).
        pytest.param("Bonjour, je voudrais les absences", "ar", id="french-sentence"),
    ],
)
def test_a_sentence_at_the_menu_is_understood(gateway: TestClient, text: str, lang: str) -> None:
    phone = UssdPhone(gateway, GUARDIAN)
    phone.dial()
    screen = UssdPhone.screen(phone.post(text))
    assert screen.startswith(f"CON {say(lang, texts.ASK_CODE)}"), screen  # bind, then absences
    assert over_budget(screen) is None


@pytest.mark.parametrize(
    ("before", "text", "expected_start"),
    [
        # a history that skips the birth-date screen: the code screen explains itself again
        pytest.param(["1"], "1*Z990000001*14092018", say("ar", texts.NOT_A_CODE), id="skip"),
        # a history that does not start like the session's: the last input counts
        pytest.param(["1"], "3*Z990000001", say("ar", texts.ASK_CHILD_DOB), id="other-history"),
        pytest.param(["1"], "1*2*3*4*5", say("ar", texts.NOT_A_CODE), id="burst-of-inputs"),
        # a session the gateway never saw (lost, or another node): the menu, no error
        pytest.param(
            [], "1*Z990000001*14092018", say("ar", texts.MAIN_TITLE), id="unknown-session"
        ),
    ],
)
def test_text_history_that_does_not_match_the_session_still_gets_a_screen(
    gateway: TestClient, before: list[str], text: str, expected_start: str
) -> None:
    phone = UssdPhone(gateway, GUARDIAN)
    if before:
        phone.dial()
        for key in before:
            phone.press(key)
    response = phone.post(text)
    assert response.status_code == 200
    assert response.text.startswith("CON " + expected_start), response.text
    assert over_budget(response.text) is None


# --- replays: AT may post the same screen twice ------------------------------------------------


def test_replayed_screen_is_byte_identical_and_calls_no_backend(
    gateway: TestClient, backend_calls: Calls
) -> None:
    phone = UssdPhone(gateway, GUARDIAN)
    steps = ["", "1", "1*Z990000001", "1*Z990000001*14092018", "1*Z990000001*14092018*9"]
    for text in steps:
        first = phone.post(text)
        assert first.status_code == 200
        calls = backend_calls()
        again = phone.post(text)
        assert again.status_code == 200
        assert again.content == first.content, text
        assert again.headers["content-type"] == first.headers["content-type"]
        assert backend_calls() == calls, f"replay of {text!r} reached the backend"
    assert total(backend_calls()) > 0


def test_replayed_verification_counts_one_failure_only(
    gateway: TestClient, backend_calls: Calls, spare_guardians: list[SpareGuardian]
) -> None:
    spare = spare_guardians[1]
    phone = UssdPhone(gateway, spare.phone)
    lang = lang_of(phone.dial())
    phone.press("1")
    # Its own child's code with a wrong date: a code it is not linked to never reaches the
    # backend (issue #21), so the replay would prove nothing.
    phone.press(spare.massar_code)
    failed_text = "*".join([*phone.path, wrong_date(spare)])
    failed = phone.post(failed_text)
    assert failed.text.startswith(f"CON {say(lang, texts.NO_MATCH)}")
    verifies = backend_calls()["POST /api/v1/students/verify"]
    for _ in range(3):  # three more failures would lock the phone (gateway and sandbox)
        assert phone.post(failed_text).content == failed.content
    assert backend_calls()["POST /api/v1/students/verify"] == verifies == {"200": 1}
    # Not locked: the right code and birth date still bind the child (and reset the counter).
    phone.path.append(wrong_date(spare))
    phone.press(spare.massar_code)
    bound = phone.press(spare.birth_date)
    assert bound.startswith("CON ")
    assert say(lang, texts.LOCKED) not in bound
    assert backend_calls()["POST /api/v1/students/verify"] == {"200": 2}


def test_retry_sent_while_the_first_is_answered_gets_the_same_screen(
    held_gateway: Callable[[str], tuple[TestClient, HeldBackend]],
    spare_guardians: list[SpareGuardian],
) -> None:
    """AT repeats a request when we are slow, i.e. while the first is still running."""
    client, held = held_gateway("/students/verify")
    spare = spare_guardians[2]
    phone = UssdPhone(client, spare.phone)
    lang = lang_of(phone.dial())
    phone.press("1")
    phone.press(spare.massar_code)  # with a wrong date: the backend is asked
    text = "*".join([*phone.path, wrong_date(spare)])
    first, second = send_twice_while_the_first_waits(held, lambda: phone.post(text))
    assert first.status_code == 200
    assert first.text.startswith(f"CON {say(lang, texts.NO_MATCH)}"), first.text
    assert second.status_code == 200
    assert second.text == first.text
    assert held.calls == 1
    # The right code and birth date bind the child (and reset the sandbox's failure count).
    phone.path.append(wrong_date(spare))
    phone.press(spare.massar_code)
    assert say(lang, texts.LOCKED) not in phone.press(spare.birth_date)


# --- every screen fits a handset ------------------------------------------------------------

WALKS = [
    pytest.param(
        GUARDIAN,
        ["1", "Z990000001", "14092018", "7", "9", "7", "0", "2", "1", "1", "9", "9", "7", "0"],
        id="arabic-bind-absences-marks",
    ),
    pytest.param(GUARDIAN, ["3", "1", "PRE-2026-0000001", "01062020", "0", "4"], id="arabic-enrol"),
    pytest.param(
        GUARDIAN,
        ["5", "7", "1", "Z990000001", "14092018", "7", "0", "3", "1", "PRE-2026-0000002"],
        id="french-after-switch",
    ),
    pytest.param(
        FR_GUARDIAN,
        ["7", "1", "Z990000003", "14032012", "7", "0", "2", "1", "9", "9", "0", "4"],
        id="french-guardian",
    ),
    pytest.param(UNLINKED, ["7", "1", "PRE-2026-0000002", "20022020", "0", "2"], id="unlinked-ar"),
    pytest.param(UNLINKED, ["3", "7", "1", "PRE-2026-0000001", "01062020"], id="unlinked-fr"),
]


@pytest.mark.parametrize(("number", "keys"), WALKS)
def test_every_screen_of_a_walk_fits_a_ussd_screen(
    gateway: TestClient, number: str, keys: list[str]
) -> None:
    phone = UssdPhone(gateway, number)
    screens = [phone.dial()] + [phone.press(key) for key in keys]
    too_long = [why for why in map(over_budget, screens) if why is not None]
    assert too_long == []
