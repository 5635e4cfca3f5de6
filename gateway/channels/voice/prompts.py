"""Recorded prompts: a sentence of the catalogs whose recording exists is played, not spoken.

    GATEWAY_VOICE_PROMPTS_DIR/<lang>/<msgid-hash>.mp3   e.g.  prompts/ar/3f9c0a41d2b7e655.mp3

`<msgid-hash>` is the first 16 hex digits of the SHA-256 of the English msgid, so a recording
survives a change of its translation's wording only if someone records it again (the listing
shows the text to read). Sentences with values in them (names, marks, dates) are spoken.
`python -m gateway voice prompts` lists every prompt with its text and file name; the gateway
serves the files at `GET /channels/voice/prompts/<lang>/<file>`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

from gateway.dialogs.spoken import VARIANTS
from gateway.i18n import LANGS, LOCALES_DIR
from gateway.speech import for_the_ear

PROMPTS_ROUTE = "/channels/voice/prompts"
FILE_NAME = re.compile(r"^[0-9a-f]{16}\.mp3$")
_PLACEHOLDER = re.compile(r"%\(\w+\)s")


def prompt_hash(msgid: str) -> str:
    return hashlib.sha256(msgid.encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Prompt:
    lang: str
    msgid: str
    text: str  # what the voice says, as a recording should say it

    @property
    def file_name(self) -> str:
        return f"{prompt_hash(self.msgid)}.mp3"


@cache
def all_prompts() -> tuple[Prompt, ...]:
    """Every sentence a voice may say that has no value in it, in each language (a screen
    text with a spoken variant is never said: its variant is)."""
    replaced = {key for key in VARIANTS if isinstance(key, str)}
    out: list[Prompt] = []
    for lang in LANGS:
        with (LOCALES_DIR / lang / "LC_MESSAGES" / "messages.po").open("rb") as fh:
            catalog = read_po(fh, locale=lang)
        for message in catalog:
            if not message.id or not isinstance(message.id, str) or not message.string:
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
        prompt = _by_text().get((lang, text))
        if self.directory is None or prompt is None:
            return None
        path = self.directory / lang / prompt.file_name
        return path if path.is_file() else None

    def url_for(self, lang: str, text: str) -> str | None:
        path = self.path_for(lang, text)
        return None if path is None else f"{self.base_url}{PROMPTS_ROUTE}/{lang}/{path.name}"

    def file(self, lang: str, name: str) -> Path | None:
        """A recording asked for by URL: only `<lang>/<hash>.mp3` inside the folder."""
        if self.directory is None or lang not in LANGS or not FILE_NAME.match(name):
            return None
        path = self.directory / lang / name
        return path if path.is_file() else None
