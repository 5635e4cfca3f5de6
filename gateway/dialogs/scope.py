"""Questions the gateway does not serve: they never get a data answer (issue 22).

Parents also ask Massar's numbers when the baccalaureate results come out, when or where a
regional exam is held, what the canteen serves or where the school is. The gateway reads
absences, marks and enrolment files; it knows no calendar, address or menu. Answering such a
question with the child's marks ("quand sortent les résultats du bac ?" has "résultats") is a
wrong answer, so a message is out of scope when it

- names a topic the gateway has no data for (canteen, address, calendar, orientation,
  competitive exam, grant, holidays), or
- asks *when*, *where* or *how* about an exam (the bac, a regional or national exam).

Those get one line saying what the gateway can do and the hotline, and land in the
unmatched log. `python -m gateway understand` prints the words that decided. An exam word
without a question word stays a request for marks ("note examen régional").
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from gateway.dialogs.tokens import fold, forms, is_word, tokens

# when / where / how: French, Arabic, Darija in Arabic script and in Latin letters
QUESTION_WORDS = (
    "quand", "ou", "comment", "date", "dates", "jour", "calendrier",
    "متى", "أين", "اين", "كيف", "موعد",
    "امتى", "إمتى", "وقتاش", "فوقاش", "فين", "كيفاش", "كيفاه",
    "imta", "emta", "waqtach", "weqtach", "fo9ach", "foqach", "fin", "kifach", "kifash",
)  # fmt: skip
EXAM_WORDS = (
    "bac", "baccalaureat", "examen", "examens", "exam", "regional", "national", "concours",
    "باكالوريا", "بكالوريا", "باك", "امتحان", "امتحانات", "الجهوي", "جهوي", "الوطني", "وطني",
    "lbac", "mti7an", "imti7an", "jihawi", "watani",
)  # fmt: skip
TOPIC_WORDS = (
    "cantine", "restauration", "adresse", "orientation", "calendrier", "concours", "bourse",
    "vacances", "transport", "emploi",
    "مطعم", "المطعم", "الإطعام", "عنوان", "العنوان", "توجيه", "التوجيه", "منحة", "المنحة",
    "عطلة", "العطلة", "النقل", "مباراة",
    "كانتين", "لاكانتين", "لادريسة",
    "kantina", "lkantina", "ladresse", "tawjih", "lwjih", "3otla", "l3otla", "minha",
)  # fmt: skip


def _folded(entries: tuple[str, ...]) -> frozenset[str]:
    return frozenset(fold(w) for entry in entries for w in tokens(entry))


_QUESTIONS = _folded(QUESTION_WORDS)
_EXAMS = _folded(EXAM_WORDS)
_TOPICS = _folded(TOPIC_WORDS)


@dataclass(frozen=True, slots=True)
class OutOfScope:
    """Why a message is out of scope: the words that decided."""

    topics: tuple[str, ...]  # a subject the gateway has no data for
    question: tuple[str, ...]  # when / where / how ...
    exams: tuple[str, ...]  # ... about an exam

    def why(self) -> str:
        if self.topics:
            return "topic: " + ", ".join(self.topics)
        return f"asks {', '.join(self.question)} about {', '.join(self.exams)}"


@lru_cache(maxsize=4096)
def out_of_scope(text: str) -> OutOfScope | None:
    """Why `text` asks for something the gateway does not serve, or None."""
    found: dict[str, list[str]] = {"topics": [], "question": [], "exams": []}
    for word in tokens(text)[:80]:
        if not is_word(word):
            continue
        variants = set(forms(fold(word)))
        for key, vocabulary in (("topics", _TOPICS), ("question", _QUESTIONS), ("exams", _EXAMS)):
            if variants & vocabulary:
                found[key].append(word)
    if found["topics"] or (found["question"] and found["exams"]):
        return OutOfScope(tuple(found["topics"]), tuple(found["question"]), tuple(found["exams"]))
    return None
