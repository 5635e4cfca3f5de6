"""Recorded prompts: a sentence of the catalogs whose recording exists is played, not spoken.

    GATEWAY_VOICE_PROMPTS_DIR/<lang>/<msgid-hash>.mp3   e.g.  prompts/ar/3f9c0a41d2b7e655.mp3

`<msgid-hash>` is the first 16 hex digits of the SHA-256 of the English msgid, so a recording
survives a change of its translation's text only if someone records it again (the listing
shows the text to read). Sentences with values in them (names, marks, dates) are spoken.
`python -m gateway voice prompts` lists every prompt with its text and file name; the gateway
serves the files at `GET /channels/voice/prompts/<lang>/<file>`.

Darija has no text-to-speech voice: a call in Darija (offered when `<dir>/darija/` exists)
plays recordings only, made from the Arabic texts as a script. A sentence recorded whole is
played whole; otherwise its fixed parts are played as recorded fragments and its values
(numbers, days, months, hours) put together from recorded words, as telephone menus have
always spoken numbers. Whatever has no recording (a child's first name) falls back to the
Arabic voice.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

from gateway.dialogs.spoken_texts import VARIANTS
from gateway.i18n import LANGS, LOCALES_DIR
from gateway.spoken import FSI, PDI, for_the_ear, plain

DARIJA = "darija"
_VALUE = re.compile(f"({FSI}[^{PDI}]*{PDI})")
_EDGES = ".,،؛:!?"

PROMPTS_ROUTE = "/channels/voice/prompts"
FILE_NAME = re.compile(r"^[0-9a-f]{16}\.mp3$")
_PLACEHOLDER = re.compile(r"%\(\w+\)s")


def prompt_hash(msgid: str) -> str:
    return hashlib.sha256(msgid.encode()).hexdigest()[:16]


def fragment_hash(text: str) -> str:
    """The file of a fixed part of a sentence with values (Darija)."""
    return prompt_hash("fragment\0" + text)


def word_hash(word: str) -> str:
    """The file of one word of a number, a day, a month or an hour (Darija)."""
    return prompt_hash("word\0" + word)


@dataclass(frozen=True, slots=True)
class Prompt:
    lang: str
    msgid: str
    text: str  # what the voice says, as a recording should say it

    @property
    def file_name(self) -> str:
        return f"{prompt_hash(self.msgid)}.mp3"  # fragments and words: their prefixed msgid


def _replaced() -> set[str]:
    """Screen texts a voice never says: it says their spoken variants."""
    return {key if isinstance(key, str) else key[0] for key in VARIANTS}


@cache
def _sayable() -> frozenset[str]:
    """The msgids a call can say: the dialogs' texts, their spoken variants and the voice
    menu's own (the catalogs also hold the console's pages and the alerts, never spoken)."""
    from gateway.channels.voice import texts as voice_texts
    from gateway.dialogs import spoken_texts, texts

    found: set[str] = set()
    for module in (texts, spoken_texts, voice_texts):
        for value in vars(module).values():
            if isinstance(value, str):
                found.add(value)
            elif isinstance(value, tuple) and all(isinstance(v, str) for v in value):
                found.update(value)  # Np_: singular and plural
    return frozenset(found)


def all_prompts() -> tuple[Prompt, ...]:
    """Every sentence a voice may say that has no value in it, in each language (a screen
    text with a spoken variant is never said: its variant is)."""
    replaced, sayable = _replaced(), _sayable()
    out: list[Prompt] = []
    for lang in LANGS:
        with (LOCALES_DIR / lang / "LC_MESSAGES" / "messages.po").open("rb") as fh:
            catalog = read_po(fh, locale=lang)
        for message in catalog:
            if not message.id or not isinstance(message.id, str) or not message.string:
                continue
            if message.id not in sayable:
                continue
            if _PLACEHOLDER.search(message.id) or not isinstance(message.string, str):
                continue
            if message.id in replaced:
                continue
            out.append(Prompt(lang=lang, msgid=message.id, text=for_the_ear(message.string)))
    return tuple(sorted(out, key=lambda p: (p.lang, p.msgid)))


@cache
def _by_text() -> dict[tuple[str, str], Prompt]:
    return {(p.lang, p.text): p for p in all_prompts()}


@dataclass(frozen=True, slots=True)
class Recordings:
    """The recordings present under `directory`, and where the gateway serves them."""

    directory: Path | None
    base_url: str

    def path_for(self, lang: str, text: str) -> Path | None:
        """The recording of a whole sentence (Darija: of its Arabic script)."""
        prompt = _by_text().get(("ar" if lang == DARIJA else lang, text))
        if self.directory is None or prompt is None:
            return None
        path = self.directory / lang / prompt.file_name
        return path if path.is_file() else None

    def url_for(self, lang: str, text: str) -> str | None:
        path = self.path_for(lang, text)
        return None if path is None else self._url(lang, path.name)

    def _url(self, lang: str, name: str) -> str:
        return f"{self.base_url}{PROMPTS_ROUTE}/{lang}/{name}"

    def _clip(self, name: str) -> str | None:
        if self.directory is None or not (self.directory / DARIJA / name).is_file():
            return None
        return self._url(DARIJA, name)

    def has_darija(self) -> bool:
        return self.directory is not None and (self.directory / DARIJA).is_dir()

    def darija(self, line: str) -> list[tuple[str, str | None]]:
        """A spoken Arabic line as Darija recordings: (Arabic text, recording URL or None for
        the Arabic voice) in order."""
        whole = plain(line).strip()
        url = self.url_for(DARIJA, whole)
        if url is not None:
            return [(whole, url)]
        out: list[tuple[str, str | None]] = []
        spoken: list[str] = []  # words with no recording, said together by the Arabic voice

        def flush() -> None:
            if spoken:
                out.append((" ".join(spoken), None))
                spoken.clear()

        for part in _VALUE.split(line):
            if part.startswith(FSI):
                for word in part[1:-1].split():
                    clip = self._clip(f"{word_hash(word.strip(_EDGES))}.mp3")
                    if clip is None:
                        spoken.append(word)
                    else:
                        flush()
                        out.append((word, clip))
            elif part.strip(_EDGES + " "):
                clip = self._clip(f"{fragment_hash(part.strip(_EDGES + ' '))}.mp3")
                if clip is None:
                    spoken.append(part.strip())
                else:
                    flush()
                    out.append((part.strip(), clip))
        flush()
        return out

    def file(self, lang: str, name: str) -> Path | None:
        """A recording asked for by URL: only `<lang>/<hash>.mp3` inside the folder."""
        if self.directory is None or lang not in (*LANGS, DARIJA) or not FILE_NAME.match(name):
            return None
        path = self.directory / lang / name
        return path if path.is_file() else None


@cache
def darija_prompts() -> tuple[Prompt, ...]:
    """What a Darija speaker records: the Arabic sentences whole, the fixed parts of the
    sentences with values, and the words numbers, days, months and hours are made of. The
    `msgid` of a fragment or a word is what its file name hashes."""
    whole = [
        Prompt(lang=DARIJA, msgid=p.msgid, text=p.text) for p in all_prompts() if p.lang == "ar"
    ]
    parts: set[str] = set()
    with (LOCALES_DIR / "ar" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        for message in read_po(fh, locale="ar"):
            if not message.id or not _PLACEHOLDER.search(str(message.id)):
                continue
            if (message.id[0] if isinstance(message.id, tuple) else message.id) in _replaced():
                continue
            forms = message.string if isinstance(message.string, tuple) else (message.string,)
            for form in forms:
                for part in _PLACEHOLDER.split(str(form or "")):
                    text = for_the_ear(part).strip(_EDGES + " ")
                    if text:
                        parts.add(text)
    fragments = [Prompt(lang=DARIJA, msgid="fragment\0" + p, text=p) for p in sorted(parts)]
    words = [Prompt(lang=DARIJA, msgid="word\0" + w, text=w) for w in sorted(_number_words())]
    return (*whole, *fragments, *words)


def _number_words() -> set[str]:
    """Every word the Arabic voice may use for a number, a day, a month or an hour."""
    from datetime import date, datetime

    from gateway.spoken import arabic_agreement, cardinal, day, time_of_day

    said = [cardinal(n, "ar") for n in (*range(101), *range(200, 1001, 100), 2000)]
    said += [cardinal(year, "ar") for year in range(2020, 2041)]
    said += [arabic_agreement(f"{s}ة ساعات") for s in ("ثلاث", "أربع", "خمس", "ست", "سبع")]
    said += [arabic_agreement(f"من {cardinal(n, 'ar')}") for n in range(20, 100, 10)]
    said += ["اضغط اثنين", "فاصلة"]
    said += [day(date(2026, month, 1 + month), "ar") for month in range(1, 13)]  # months
    said += [day(date(2026, 5, 18 + weekday), "ar") for weekday in range(7)]  # a week's days
    said += [time_of_day(datetime(2026, 1, 1, 10, 5), "ar")]  # noqa: DTZ001 - words only
    return {w.strip(_EDGES) for phrase in said for w in phrase.split() if w.strip(_EDGES)}
