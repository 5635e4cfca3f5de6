"""Tokens: a message as matching sees it, split into pieces, and the forms each word (a
token of letters, `is_word`) may stand for once its article, attached pronoun or Arabizi
spelling is taken off.

```
"‏النقط ديال بنتي؟"  -> tokens ["النقط", "ديال", "بنتي"]
forms("النقط")       -> {"النقط", "نقط"}
fold("no9at")        -> "noqat"      fold("lghiyab") -> "lgiab"
forms("lgiab")       -> {"lgiab", "giab"}
```

`fold` is applied to the vocabulary and to messages alike, so it only has to be consistent:
it merges spellings of one word (`ghiyab`, `ghyab`, `rhiab`; `moyenne`, `moyene`), it does not
have to be linguistics. Pure functions, no state.
"""

from __future__ import annotations

import re

from gateway.text import normalise

# Anything that is neither a letter nor a digit separates words; hyphens and apostrophes
# inside a word join it ("pré-inscription", "aujourd'hui") except the French elisions below.
_SEPARATORS = re.compile(r"[^\w\-'’]+|_")
_JOINERS = re.compile(r"[\-'’]")
_ELISION = re.compile(r"^(?:l|d|j|qu|m|t|s|n|c)['’]")
_ARABIC = re.compile("[\u0621-\u064a]")
_LATIN = re.compile("[a-z]")

# Arabizi: digits that stand for Arabic letters (3 ع, 7 ح, 9 ق, 5 خ, 2 ء, 8 ه), then
# spellings that vary from writer to writer.
_ARABIZI_DIGITS = str.maketrans({"3": "a", "7": "h", "9": "q", "5": "kh", "2": "", "8": "h"})
_LATIN_FOLDS = (
    (re.compile("gh|rh"), "g"),  # غ: "ghiyab", "rhiab"
    (re.compile("ou|oo|w(?=[^aeiou]|$)"), "u"),  # "nouqat", "mosa3ada" / "mossa3ada"
    (re.compile("ee|iy|y|ie(?=[^aeiou]|$)"), "i"),  # "ghiyab", "ghyab"
    (re.compile("ph"), "f"),
)
_DOUBLED = re.compile(r"(.)\1+")

# Arabic script: what may stand before a word (conjunction, preposition, article) and after it
# (attached pronoun, plural), longest first. "والنقط", "بالعربية", "نقطو", "غياباتها".
AR_PREFIXES = ("وال", "بال", "فال", "كال", "لل", "ال", "و", "ب", "ف", "ل", "د")
AR_SUFFIXES = ("اتها", "اتهم", "اتو", "اته", "ات", "ها", "هم", "كم", "نا", "ي", "ك", "ه", "و")
# Latin Darija: "f" / "b" / "d" + article "l", "el", "al" ("flmtihan", "bl3arbia", "lghiyab")
# and attached pronouns or plural ("weldi", "nqatou", "ghiyabat").
LATIN_PREFIXES = ("fl", "bl", "dl", "wl", "fel", "bel", "del", "el", "al", "l")
LATIN_SUFFIXES = ("at", "ha", "hom", "o", "u", "i")
MIN_STEM = 3


def tokens(text: str) -> list[str]:
    """The tokens of `text`, normalised (no marks, case or accents) and split on punctuation."""
    out = []
    for raw in _SEPARATORS.split(normalise(text)):
        word = _JOINERS.sub("", _ELISION.sub("", raw.strip("-'’")))
        if word:
            out.append(word)
    return out


def is_word(word: str) -> bool:
    """A word made of letters, or Arabizi (letters with 2 3 5 7 8 9): not a code or a number."""
    letters = sum(ch.isalpha() for ch in word)
    if letters == 0:
        return False
    digits = [ch for ch in word if ch.isdigit()]
    return not digits or (letters >= 2 and all(d in "235789" for d in digits))


def script(word: str) -> str:
    """'ar' for Arabic letters, 'latin' otherwise."""
    return "ar" if _ARABIC.search(word) else "latin"


def fold(word: str) -> str:
    """One spelling for the variants of a word (see the module docstring)."""
    if script(word) == "ar":
        return _DOUBLED.sub(r"\1", word)
    word = word.translate(_ARABIZI_DIGITS)
    for pattern, repl in _LATIN_FOLDS:
        word = pattern.sub(repl, word)
    return _DOUBLED.sub(r"\1", word)


def forms(folded: str, *, suffixes: bool = True) -> list[str]:
    """`folded` and what it may be once a prefix and a suffix are taken off (longest first)."""
    arabic = script(folded) == "ar"
    prefixes = AR_PREFIXES if arabic else LATIN_PREFIXES
    endings = (AR_SUFFIXES if arabic else LATIN_SUFFIXES) if suffixes else ()
    stems = [folded]
    stems += [folded[len(p) :] for p in prefixes if folded.startswith(p)]
    out: list[str] = []
    for stem in stems:
        if len(stem) < MIN_STEM and stem != folded:
            continue
        out.append(stem)
        for suffix in endings:
            if stem.endswith(suffix) and len(stem) - len(suffix) >= MIN_STEM:
                bare = stem[: -len(suffix)]
                out.append(bare)
                if bare.endswith("ت"):  # "نتيجته": the taa marbuta came back as ت
                    out.append(bare[:-1] + "ه")
    return list(dict.fromkeys(out))


def has_latin(text: str) -> bool:
    return bool(_LATIN.search(text))
