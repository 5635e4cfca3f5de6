"""Questions the gateway does not serve (`gateway/dialogs/scope.py`), beside the keyword
tables of test_intents.py: they never get a data answer, whatever request word they hold."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from gateway.cli.understand import ELSEWHERE, got
from gateway.dialogs import texts
from gateway.dialogs.pages import gsm_fold
from gateway.dialogs.scope import out_of_scope
from gateway.i18n import translator
from tests.gateway.conftest import SmsPhone

OUT_OF_SCOPE = [
    # French
    ("fr", "quand sortent les résultats du bac ?"),
    ("fr", "Quand est l'examen régional ?"),
    ("fr", "date de l'examen national"),
    ("fr", "où se passe le bac de mon fils"),
    ("fr", "comment s'inscrire au concours"),
    ("fr", "menu de la cantine"),
    ("fr", "l'adresse de l'école svp"),
    ("fr", "orientation après le bac"),
    # Modern Standard Arabic
    ("ar", "متى تظهر نتائج الباكالوريا؟"),
    ("ar", "متى الامتحان الجهوي"),
    ("ar", "أين يجرى الامتحان الوطني"),
    ("ar", "ما هو عنوان المدرسة"),
    ("ar", "وجبات المطعم المدرسي"),
    ("ar", "التوجيه بعد الباكالوريا"),
    # Darija, Arabic script
    ("darija", "امتى غادي تخرج نتيجة الباك"),
    ("darija", "فين كاين الامتحان الجهوي"),
    ("darija", "وقتاش الامتحان ديال الباك"),
    ("darija", "لاكانتين ديال المدرسة"),
    # Darija, Latin letters (Arabizi)
    ("arabizi", "imta natija dyal lbac"),
    ("arabizi", "fo9ach l'imti7an jihawi"),
    ("arabizi", "fin kayna l'adresse dyal lmadrasa"),
    ("arabizi", "kifach tawjih mn b3d lbac"),
]
# Requests that hold an exam or results word and stay requests (the corpus's labels).
STILL_REQUESTS = [
    ("fr", "note examen régional", "marks"),
    ("fr", "examen national résultat", "marks"),
    ("fr", "Resultat fin d'année", "marks"),
    ("fr", "quand les absences ?", "absences"),
    ("fr", "comment inscrire mon enfant", "enrolment"),
    ("ar", "نتائج الامتحان الوطني", "marks"),
    ("darija", "النتائج ديال الامتحان الجهوي", "marks"),
    ("arabizi", "mti7an jihawi", "marks"),
    ("fr", "comment ça marche ?", "help"),
]


@pytest.mark.parametrize(("lang", "text"), OUT_OF_SCOPE)
def test_questions_about_what_the_gateway_does_not_serve(lang: str, text: str) -> None:
    found = out_of_scope(text)
    assert found is not None, f"[{lang}] {text!r} read as a request"
    assert found.why()  # `python -m gateway understand` says which words decided
    assert got(text) == ELSEWHERE


@pytest.mark.parametrize(("lang", "text", "expected"), STILL_REQUESTS)
def test_exam_words_without_a_question_stay_requests(lang: str, text: str, expected: str) -> None:
    assert out_of_scope(text) is None, f"[{lang}] {text!r}"
    assert got(text) == expected


@pytest.mark.parametrize(("phone", "lang"), [("+212700000001", "fr"), ("+212600000001", "ar")])
def test_the_bac_results_question_gets_no_marks_by_sms(
    gateway: TestClient, phone: str, lang: str
) -> None:
    sms = SmsPhone(gateway, phone)
    sms.send("Z990000001 14092018")  # a bound child whose marks could be shown
    answer = sms.send("quand sortent les résultats du bac ?")
    t = translator(lang)
    note = t.gettext(texts.OUT_OF_SCOPE)
    assert answer.startswith(gsm_fold(note) if lang == "fr" else note)  # then the menu
    assert t.gettext(texts.MARKS_HEADER, name="", semester=1).strip(" :،") not in answer
    assert " = " not in answer  # no "<subject>: <marks> = <average>" line
