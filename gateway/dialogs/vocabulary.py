"""The words parents use for each request, read from one TOML file per language
(`gateway/dialogs/vocab/{fr,ar,darija}.toml`, shipped as package data).

```toml
reply = "fr"              # the language to answer in when these words decide it

[marks]                   # a request (see `Command`), or [filler]: words that never decide
words = ["notes", "moyenne", "bulletin de notes"]   # a word, or a phrase of several
```

Each entry is folded like a message word (`tokens.fold`), so accents, case, `ال` and Arabizi
digits need not be written twice. The same entry under two requests is refused at load.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from importlib import resources

from gateway.dialogs.tokens import fold, forms, script, tokens

FILES = ("fr", "ar", "darija")
FILLER = "filler"


class Command(StrEnum):
    """What a message may ask for; TOML sections bear these names."""

    ABSENCES = "absences"
    MARKS = "marks"
    ENROLMENT = "enrolment"
    PREREGISTRATION = "preregistration"
    REREGISTRATION = "reregistration"
    HELP = "help"
    MENU = "menu"
    GREETING = "greeting"
    LANG_AR = "lang_ar"
    LANG_FR = "lang_fr"
    STOP = "stop"  # no more alerts to this phone
    START = "start"  # alerts again
    ALERTS = "alerts"  # which alerts, and how often (a menu)


class VocabularyError(ValueError):
    """A vocabulary file names an unknown section or gives one entry two meanings."""


@dataclass(frozen=True, slots=True)
class Sense:
    """What a folded word means: a command (None for filler), and the reply language."""

    command: Command | None
    reply: str


@dataclass(slots=True)
class Vocabulary:
    """Folded words and phrases to their sense; `latin` and `arabic` list the word keys by
    script, for fuzzy matching within one script."""

    exact: dict[str, Sense] = field(default_factory=dict)
    derived: dict[str, Sense | None] = field(default_factory=dict)  # None: two meanings
    phrases: list[tuple[tuple[str, ...], Sense]] = field(default_factory=list)
    entries: list[tuple[str, str, Command | None]] = field(default_factory=list)

    def sense(self, key: str) -> Sense | None:
        if key in self.exact:
            return self.exact[key]
        return self.derived.get(key)

    def keys(self, of_script: str) -> list[str]:
        keys = {*self.exact, *(k for k, v in self.derived.items() if v is not None)}
        return sorted(k for k in keys if script(k) == of_script)

    def add(self, entry: str, sense: Sense, origin: str) -> None:
        parts = [fold(w) for w in tokens(entry)]
        if not parts:
            raise VocabularyError(f"{origin}: empty entry {entry!r}")
        self.entries.append((origin, entry, sense.command))
        if len(parts) > 1:
            self.phrases.append((tuple(parts), sense))
            return
        key = parts[0]
        known = self.exact.get(key)
        if known is not None and known.command != sense.command:
            raise VocabularyError(f"{origin}: {entry!r} is also {known.command or FILLER}")
        if known is not None:
            return  # listed twice for one request: the first file's language stands
        self.exact[key] = sense
        for stem in forms(key, suffixes=False)[1:]:
            if stem in self.derived and self.derived[stem] != sense:
                self.derived[stem] = None
            else:
                self.derived.setdefault(stem, sense)


def parse(name: str, text: str, vocab: Vocabulary) -> None:
    """Add the TOML document `text` (file `name`) to `vocab`."""
    doc = tomllib.loads(text)
    reply = doc.pop("reply", None)
    if reply not in ("ar", "fr"):
        raise VocabularyError(f'{name}: `reply` must be "ar" or "fr"')
    for section, body in doc.items():
        if section != FILLER and section not in Command.__members__.values():
            raise VocabularyError(f"{name}: unknown section [{section}]")
        command = None if section == FILLER else Command(section)
        entries = body.get("words", []) if isinstance(body, dict) else None
        if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
            raise VocabularyError(f'{name}: [{section}] needs `words = ["..."]`')
        for entry in entries:
            vocab.add(entry, Sense(command, reply), f"{name}.toml [{section}]")


@cache
def vocabulary() -> Vocabulary:
    """The vocabularies shipped with the gateway (read once per process)."""
    vocab = Vocabulary()
    folder = resources.files("gateway.dialogs") / "vocab"
    for name in FILES:
        parse(name, (folder / f"{name}.toml").read_text(encoding="utf-8"), vocab)
    # Exact entries win over stems derived from other entries.
    for key in vocab.exact:
        vocab.derived.pop(key, None)
    return vocab
