"""What a message asks for: `understand(text) -> Reading`.

A message names a request when one of its words does (after `tokens.fold` and `tokens.forms`),
exactly or within a few typing errors: none for words of up to 4 letters (`not` is not `nom`),
one up to 7, two beyond (optimal string alignment, so `abesnce` is one swap from `absence`).
A word close to two requests at once names neither. Filler (`svp`, `عافاك`, `weldi`) is
recognised but never decides. Then:

- one request (absences, marks, enrolment, pre- or re-registration) wins over help, menu,
  language and greeting words around it ("bonjour, les notes svp" asks for marks);
- two requests ("notes et absences") are a question to ask back, never a guess;
- pre- and re-registration are kinds of enrolment: "تسجيل قبلي" asks for pre-registration;
- a language word decides only alone ("notes d'arabe" asks for marks, not for Arabic).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import OSA

from gateway.dialogs.tokens import fold, forms, has_latin, is_word, script, tokens
from gateway.dialogs.vocabulary import Command, Sense, Vocabulary, vocabulary
from gateway.text import normalise

REQUESTS = (
    Command.ABSENCES,
    Command.MARKS,
    Command.ENROLMENT,
    Command.PREREGISTRATION,
    Command.REREGISTRATION,
)
# When no request is named, the first of these that is.
FALLBACKS = (
    Command.STOP,
    Command.START,
    Command.ALERTS,
    Command.HELP,
    Command.LANG_AR,
    Command.LANG_FR,
    Command.MENU,
    Command.GREETING,
)
KINDS_OF_ENROLMENT = frozenset({Command.PREREGISTRATION, Command.REREGISTRATION})
QUESTION_MARKS = frozenset("?؟")
MAX_WORDS = 40  # a 2,000-character message is read by its first words only


def max_typos(length: int) -> int:
    """Typing errors allowed in a word of `length` letters."""
    if length <= 4:
        return 0
    return 1 if length <= 7 else 2


@dataclass(frozen=True, slots=True)
class Reading:
    """What the words of a message name, and the language they are written in."""

    named: frozenset[Command]
    lang: str | None  # "ar" or "fr" from the recognised words; None when nothing decides
    words: int  # words of letters (codes and numbers are not words)
    unknown: int  # words nothing recognised

    @property
    def requests(self) -> tuple[Command, ...]:
        named = set(self.named) & set(REQUESTS)
        if named & KINDS_OF_ENROLMENT:
            named.discard(Command.ENROLMENT)
        return tuple(c for c in REQUESTS if c in named)

    @property
    def command(self) -> Command | None:
        """The one thing to do, or None (nothing named, or two requests: see `choices`)."""
        requests = self.requests
        if requests:
            return requests[0] if len(requests) == 1 else None
        langs = self.named & {Command.LANG_AR, Command.LANG_FR}
        for command in FALLBACKS:
            if command in self.named and not (command in langs and len(langs) > 1):
                return command
        return None

    @property
    def choices(self) -> tuple[Command, ...]:
        """The requests to ask the user to choose from; empty unless two or more."""
        requests = self.requests
        return requests if len(requests) > 1 else ()


@lru_cache(maxsize=4096)
def understand(text: str) -> Reading:
    """Read `text` against the shipped vocabularies (the engine asks twice per turn)."""
    return read(text, vocabulary())


def read(text: str, vocab: Vocabulary) -> Reading:
    plain = normalise(text)
    if plain and set(plain.replace(" ", "")) <= QUESTION_MARKS:
        return Reading(frozenset({Command.HELP}), None, 0, 0)  # a bare "?" asks how it works
    folded = [fold(w) for w in tokens(text)[: 2 * MAX_WORDS] if is_word(w)][:MAX_WORDS]
    senses, unknown = _senses(folded, vocab)
    named = frozenset(s.command for s in senses if s.command is not None)
    return Reading(named, _language(text, senses), len(folded), unknown)


def _senses(folded: list[str], vocab: Vocabulary) -> tuple[list[Sense], int]:
    senses: list[Sense] = []
    taken = [False] * len(folded)
    word_forms = [set(forms(w)) for w in folded]
    for parts, sense in vocab.phrases:
        for start in range(len(folded) - len(parts) + 1):
            window = word_forms[start : start + len(parts)]
            if all(p in f for p, f in zip(parts, window, strict=True)):
                senses.append(sense)
                taken[start : start + len(parts)] = [True] * len(parts)
    unknown = 0
    for word, done in zip(folded, taken, strict=True):
        if done:
            continue
        found = _exact(word, vocab) or _fuzzy(word, vocab)
        if found is None:
            unknown += 1
        else:
            senses.append(found)
    return senses, unknown


def _exact(word: str, vocab: Vocabulary) -> Sense | None:
    for form in forms(word):
        sense = vocab.sense(form)
        if sense is not None:
            return sense
    return None


def _fuzzy(word: str, vocab: Vocabulary) -> Sense | None:
    """The sense of the nearest entry within `max_typos`; None when two senses tie."""
    by_length = _keys(vocab, script(word))
    best: dict[int, set[Sense]] = {}
    for form in forms(word, suffixes=False):
        limit = max_typos(len(form))
        if limit == 0:
            continue
        # Only entries whose length is within reach can be within `limit` edits.
        keys = [
            k for n in range(len(form) - limit, len(form) + limit + 1) for k in by_length.get(n, ())
        ]
        for key, distance, _ in process.extract(
            form, keys, scorer=OSA.distance, score_cutoff=limit, limit=None
        ):
            if max_typos(len(key)) >= distance:  # a short entry is never reached by a typo
                sense = vocab.sense(key)
                if sense is not None:
                    best.setdefault(int(distance), set()).add(sense)
    if not best:
        return None
    nearest = best[min(best)]
    commands = {s.command for s in nearest}
    if len(commands) > 1:
        return None
    return next(iter(nearest))


_KEYS: dict[tuple[int, str], dict[int, list[str]]] = {}


def _keys(vocab: Vocabulary, of_script: str) -> dict[int, list[str]]:
    """The vocabulary's words in one script, by length (built once per vocabulary)."""
    cached = _KEYS.get((id(vocab), of_script))
    if cached is None:
        cached = {}
        for key in vocab.keys(of_script):
            cached.setdefault(len(key), []).append(key)
        _KEYS[(id(vocab), of_script)] = cached
    return cached


def _language(text: str, senses: list[Sense]) -> str | None:
    """Arabic script is Arabic; Latin words count for French or Darija (Arabizi)."""
    if not has_latin(normalise(text)):
        return "ar" if any(script(w) == "ar" for w in tokens(text)) else None
    votes = {"ar": 0, "fr": 0}
    for sense in senses:
        votes[sense.reply] += 1
    if votes["ar"] == votes["fr"]:
        return None  # "abs غياب": the session's language stands
    return "ar" if votes["ar"] > votes["fr"] else "fr"
