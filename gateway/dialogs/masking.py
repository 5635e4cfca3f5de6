"""A message the gateway did not understand, as an operator may read it: no digits, no names.

```
mask("Absences de Youssef Z990000001 né le 14/09/2018", names=["Youssef"])
  -> "Absences de * # né le #"
```

- every word holding digits becomes `#` (codes, dates, phone numbers), except Arabizi words,
  whose few single digits are letters (`no9at`, `3afak`);
- addresses (`@`, `http`, `www.`) become `#`;
- the names the backend gave for this phone (guardian and children, both scripts) become `*`,
  and so does any capitalised Latin word after the first (a name the backend does not know);
- the result is cut to `MAX_CHARS`.
Arabic script has no capitals: a name the backend does not know stays (a known limit).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from gateway.text import normalise

MAX_CHARS = 160
_INVISIBLE = re.compile("[\u00ad\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
_ADDRESS = re.compile(r"@|https?:|www\.", re.I)
_EDGE = re.compile(r"^[^\w]+|[^\w]+$")


def mask(text: str, names: Iterable[str] = ()) -> str:
    """`text` with digits, addresses and names masked (see the module docstring)."""
    known = {normalise(n) for n in names if n.strip()}
    out: list[str] = []
    for i, token in enumerate(_INVISIBLE.sub("", text).split()):
        core = _EDGE.sub("", token)
        if _ADDRESS.search(token) or (any(ch.isdigit() for ch in token) and not _arabizi(core)):
            out.append("#")
        elif core and (normalise(core) in known or _capitalised_name(core, first=i == 0)):
            out.append(token.replace(core, "*"))
        else:
            out.append(token)
    masked = " ".join(out)
    masked = re.sub(r"#(?:\s*#)+", "#", masked)  # "14 09 2018" is one number
    return masked[:MAX_CHARS]


def _arabizi(word: str) -> bool:
    """Letters with at most 3 single digits that stand for letters (never a number)."""
    digits = [ch for ch in word if ch.isdigit()]
    letters = sum(ch.isalpha() for ch in word)
    return (
        letters >= 2
        and len(digits) <= 3
        and all(d in "235789" for d in digits)
        and not re.search(r"\d\d", word)
        and letters + len(digits) == len(word)
    )


def _capitalised_name(word: str, *, first: bool) -> bool:
    return not first and word[:1].isupper() and word[1:2].islower() and word.isalpha()
