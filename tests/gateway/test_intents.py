"""What a message asks for: normalisation, typing errors, filler, two requests, bad input."""

from __future__ import annotations

import pytest

from gateway.dialogs.intents import max_typos, understand
from gateway.dialogs.tokens import fold, forms, tokens
from gateway.dialogs.vocabulary import Command, Vocabulary, VocabularyError, parse, vocabulary

RLM, ZWSP, LRE, PDF, BOM = "\u200f", "\u200b", "\u202a", "\u202c", "\ufeff"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (f"{RLM}النقط{RLM}", ["النقط"]),  # direction marks phones put around Arabic
        (f"no{ZWSP}tes", ["notes"]),
        (f"{LRE}abs{PDF}{BOM}", ["abs"]),
        ("Abs.", ["abs"]),
        ("absences?!", ["absences"]),
        ("RÉSULTATS", ["resultats"]),
        ("pré-inscription", ["preinscription"]),
        ("d'absences", ["absences"]),  # French elision
        ("النقط،ديال؟", ["النقط", "ديال"]),  # Arabic comma and question mark
        ("نُقَطـــه", ["نقطه"]),  # harakat and tatweel
    ],
)
def test_words_drop_marks_punctuation_case_and_accents(raw: str, expected: list[str]) -> None:
    assert tokens(raw) == expected


@pytest.mark.parametrize(
    ("word", "bare"),
    [
        ("الغياب", "غياب"),  # article
        ("والنقط", "نقط"),  # conjunction + article
        ("بالعربيه", "عربيه"),  # preposition + article
        ("غياباتها", "غياب"),  # plural + attached pronoun
        ("نقطو", "نقط"),  # Darija "his"
        ("نتيجته", "نتيجه"),  # taa marbuta back from ت
        (fold("lghiyab"), fold("ghiyab")),  # Arabizi article
        (fold("elghiab"), fold("ghiab")),
        (fold("bl3arbia"), fold("3arbia")),
        (fold("ghiyabat"), fold("ghiyab")),  # Arabizi plural
    ],
)
def test_forms_take_off_articles_and_attached_pronouns(word: str, bare: str) -> None:
    assert bare in forms(word)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("no9at", "noqat"),  # 9 = ق
        ("mosa3ada", "mosaada"),  # 3 = ع
        ("ghiyab", "ghyab"),
        ("ghiyab", "rhiab"),
        ("moyenne", "moyene"),
        ("nata2ij", "nataij"),  # 2 = ء
        ("sba7", "sbah"),  # 7 = ح
    ],
)
def test_fold_merges_spellings_of_one_word(one: str, other: str) -> None:
    assert fold(one) == fold(other)


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("absense", Command.ABSENCES),  # one letter wrong
        ("abesnce", Command.ABSENCES),  # two letters swapped
        ("abscences", Command.ABSENCES),
        ("resultas", Command.MARKS),
        ("bultin", Command.MARKS),
        ("النتايج", Command.MARKS),
        ("not", None),  # short words are exact: "not" is not "nom", nor "note"
        ("nom", None),
        ("abs", Command.ABSENCES),
        ("aps", None),
    ],
)
def test_typing_errors_are_allowed_by_word_length(text: str, command: Command | None) -> None:
    assert understand(text).command is command


@pytest.mark.parametrize(("length", "typos"), [(1, 0), (3, 0), (4, 0), (5, 1), (7, 1), (8, 2)])
def test_typo_allowance_grows_with_word_length(length: int, typos: int) -> None:
    assert max_typos(length) == typos


@pytest.mark.parametrize(
    ("text", "command", "lang"),
    [
        ("Absence svp", Command.ABSENCES, "fr"),
        ("absences de mon fils", Command.ABSENCES, "fr"),
        ("النقط ديال ولدي الله يخليك", Command.MARKS, "ar"),
        ("عافاك الغياب ديال بنتي", Command.ABSENCES, "ar"),
        ("bghit nchouf no9at dyal weldi 3afak", Command.MARKS, "ar"),  # Arabizi is Arabic
        ("bonjour, les notes svp", Command.MARKS, "fr"),  # a request beats a greeting
        ("notes d'arabe", Command.MARKS, "fr"),  # a language word decides only alone
        ("aide pour les absences", Command.ABSENCES, "fr"),
        ("inscription", Command.ENROLMENT, "fr"),
        ("التسجيل القبلي", Command.PREREGISTRATION, "ar"),  # a kind of enrolment wins
        ("إعادة التسجيل", Command.REREGISTRATION, "ar"),
        ("arabe", Command.LANG_AR, "fr"),
        ("?", Command.HELP, None),
        ("؟", Command.HELP, None),
        ("slm", Command.GREETING, "ar"),
        ("السلام عليكم", Command.GREETING, "ar"),
        ("Z123456789 notes", Command.MARKS, "fr"),  # the code is not a word
    ],
)
def test_one_request_is_read_with_its_language(
    text: str, command: Command, lang: str | None
) -> None:
    reading = understand(text)
    assert (reading.command, reading.lang) == (command, lang)
    assert reading.choices == ()


@pytest.mark.parametrize(
    ("text", "choices"),
    [
        ("notes et absences", (Command.ABSENCES, Command.MARKS)),
        ("الغياب والنقط", (Command.ABSENCES, Command.MARKS)),
        ("no9at w ghiyab", (Command.ABSENCES, Command.MARKS)),
        ("inscription et résultats", (Command.MARKS, Command.ENROLMENT)),
    ],
)
def test_two_requests_are_asked_back_never_guessed(text: str, choices: tuple[Command, ...]) -> None:
    reading = understand(text)
    assert reading.command is None
    assert reading.choices == choices


@pytest.mark.parametrize(
    "text",
    [
        "😀",
        "🇲🇦👍🏽",
        "123456789",
        "٠٦١٢٣٤٥٦٧٨",
        "?!.,;:",
        "...",
        "",
        " ",
        "x" * 2000,
        "ب" * 2000,
        "notes " * 400,
        "abs غياب xyz " * 150,
    ],
)
def test_bad_input_is_read_without_error_and_quickly(text: str) -> None:
    reading = understand(text)
    assert reading.words <= 40


def test_merci_and_ok_ask_for_nothing() -> None:
    for text in ("merci", "ok", "شكرا", "wakha", "chokran"):
        assert understand(text).command is None, text


ENTRIES = vocabulary().entries


@pytest.mark.parametrize(
    ("origin", "entry", "command"), ENTRIES, ids=[f"{o}:{e}" for o, e, _ in ENTRIES]
)
def test_every_vocabulary_entry_reaches_its_request(
    origin: str, entry: str, command: Command | None
) -> None:
    reading = understand(entry)
    if command is None:  # filler never decides
        assert reading.command is None, (origin, entry)
        assert not reading.choices, (origin, entry)
    else:
        assert reading.command is command, (origin, entry, reading)


def test_one_entry_under_two_requests_is_refused() -> None:
    doc = 'reply = "fr"\n[absences]\nwords = ["abs"]\n[marks]\nwords = ["ABS"]\n'
    with pytest.raises(VocabularyError, match="also absences"):
        parse("bad", doc, Vocabulary())


@pytest.mark.parametrize(
    "doc",
    [
        'reply = "fr"\n[homework]\nwords = ["devoirs"]\n',  # no such request
        'reply = "en"\n[marks]\nwords = ["marks"]\n',  # no such language
        'reply = "fr"\n[marks]\nwords = "notes"\n',  # not a list
    ],
)
def test_a_malformed_vocabulary_is_refused(doc: str) -> None:
    with pytest.raises(VocabularyError):
        parse("bad", doc, Vocabulary())
