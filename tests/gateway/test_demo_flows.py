"""The demo of issue #4, end to end through the real routes and the sandbox backend.

`+212600000001` binds both children (Massar code + birth date) and reads their unjustified
absences and marks in Arabic and French, over USSD and over SMS; `+212600000099`, linked to
no student, reads the status of pre-registration `PRE-2026-0000001`.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.gateway.conftest import SmsPhone, UssdPhone

GUARDIAN = "+212600000001"
UNLINKED = "+212600000099"


def bind_by_ussd(phone: UssdPhone, code: str, dob: str, *, menu_key: str) -> str:
    phone.press(menu_key)
    screen = phone.last.text if phone.last else ""
    if "2." in screen and ("إضافة" in screen or "Ajouter" in screen):
        phone.press("2")  # "add a child" on the child menu
    phone.press(code)
    return phone.press(dob)


def test_ussd_arabic_absences_then_french_marks_of_both_children(gateway: TestClient) -> None:
    phone = UssdPhone(gateway, GUARDIAN)
    menu = phone.dial()
    assert menu.startswith("CON خدمات مسار:")  # the guardian's preferred language
    assert "1. الغياب" in menu

    absences = bind_by_ussd(phone, "Z990000001", "14092018", menu_key="1")
    assert absences.startswith("CON يوسف: ")
    assert "غير مبرر" in absences
    assert "Z990000001" not in absences
    assert "14092018" not in absences

    phone.press("0")
    assert "5. Français" in phone.press("0")
    menu_fr = phone.press("5")
    assert "Services Massar" in menu_fr

    marks = bind_by_ussd(phone, "Z990000002", "02052008", menu_key="2")
    assert "semestre 1, moyennes Massar :" in marks  # USSD: Massar's averages only
    assert "Maths 14,12" in marks
    more = phone.press("9")
    assert more.startswith("CON ")
    assert more != marks

    phone.press("0")
    which = phone.press("1")  # absences: now two bound children to choose from
    assert "Quel enfant ?" in which
    keys = {
        line.split(". ")[1].split(" ")[0]: line.split(".")[0] for line in which.splitlines()[1:]
    }
    assert {"Youssef", "Salma"} <= set(keys)  # both bound children, and nobody else
    second = phone.press(keys["Salma"])
    assert second.startswith("CON Salma : ")
    assert "depuis le 01/09" in second


def test_sms_french_and_arabic_for_both_children(gateway: TestClient) -> None:
    sms = SmsPhone(gateway, GUARDIAN)
    # The guardian's language (Massar: Arabic) wins over the keyword's (issue 22).
    assert "رمز مسار" in sms.send("ABS")
    first = sms.send("Z990000001 14092018")  # code and birth date in one message
    assert first.startswith("يوسف: ")
    assert "غير مبرر" in first
    assert "Services Massar" in sms.send("FR")  # chosen: French from now on
    assert sms.send("ABS").startswith("Quel enfant ?")  # one bound child, one to add

    assert "خدمات مسار" in sms.send("AR")
    assert "أي طفل؟" in sms.send("نقط")  # one bound child, one still to add
    assert "رمز مسار" in sms.send("2")
    assert "تاريخ ازدياد" in sms.send("Z990000002")
    marks = sms.send("02052008")
    assert "الدورة 1" in marks
    assert "المعدل" in marks or "9. المزيد" in marks

    absences = sms.send("غياب")
    assert "أي طفل؟" in absences
    assert "غير مبرر" in sms.send("1")


def test_unlinked_phone_reads_a_pre_registration_status(gateway: TestClient) -> None:
    sms = SmsPhone(gateway, UNLINKED)
    explained = sms.send("ABS")
    assert "رقمك غير مسجل في مسار" in explained  # the guardian record's language: Arabic
    assert "Services Massar" not in sms.send("FR")  # no menu of services for this phone
    answer = sms.send("PRE-2026-0000001 01062020")
    assert answer.startswith("PRE-2026-0000001 : en cours de traitement")

    phone = UssdPhone(gateway, UNLINKED)
    first = phone.dial()
    assert "1. " in first
    phone.press("1")
    phone.press("20260000001")  # a keypad has no letters: digits alone are enough
    status = phone.press("01062020")
    assert "PRE-2026-0000001" in status


@pytest.mark.parametrize("wrong_dob", ["01062021", "31022020", "1062020"])
def test_pre_registration_needs_the_right_birth_date(gateway: TestClient, wrong_dob: str) -> None:
    sms = SmsPhone(gateway, UNLINKED)
    answer = sms.send(f"PRE-2026-0000001 {wrong_dob}")
    assert "en cours" not in answer
    assert "PRE-2026-0000001 :" not in answer


def test_a_keypad_binds_a_child_with_the_nine_digits_alone(gateway: TestClient) -> None:
    phone = UssdPhone(gateway, GUARDIAN)
    phone.dial()
    phone.press("1")
    phone.press("990000001")  # no letters on a keypad
    assert phone.press("14092018").startswith("CON يوسف: ")


def test_a_request_the_backend_refuses_gets_an_answer_not_a_crash(
    make_gateway: Callable[..., TestClient], sandbox_app: object
) -> None:
    """Any 4xx the engine did not plan for (here: verify answers 400) ends in a reply, 2xx."""

    class RefuseVerify(httpx.AsyncBaseTransport):
        def __init__(self) -> None:
            self.inner = httpx.ASGITransport(app=sandbox_app)  # type: ignore[arg-type]

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            if request.url.path.endswith("/students/verify"):
                problem = {"status": 400, "code": "invalid-request", "title": "Bad request"}
                return httpx.Response(
                    400, json=problem, headers={"content-type": "application/problem+json"}
                )
            return await self.inner.handle_async_request(request)

    gateway = make_gateway(backend_transport=RefuseVerify())
    sms = SmsPhone(gateway, "+212600000002")  # Naima, French
    assert sms.send("Z990000003 14032012") == "Cette information n'est pas disponible.\n0. Menu"
