"""The call's steps as voice menus: the language menu, a dialog screen by ear, the transfer.

Keys on every screen: `9` repeats, `0` reaches an agent; silence or a key nothing answers
gets one polite retry, then the agent. Menus keep the screen's keys, except that "more" is
`1` and "back to the menu" `8` (9 and 0 are taken); prompts read digits (a code's nine, a
date's eight, an application number's eleven). Where the call stands rides in the signed
action URL (turn, mode, misses, the keys of the screen), so Twilio's retry of a request
finds the same state and gets the same answer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlencode

from gateway.channels.voice import texts
from gateway.channels.voice.menu import Dial, Gather, Hangup, Redirect, Say, VoiceMenu
from gateway.channels.voice.prompts import DARIJA, Recordings
from gateway.dialogs.model import Awaits, Option, Screen
from gateway.spoken import SpokenTranslator, plain, spoken_translator

GATHER_ROUTE = "/channels/voice/twilio/gather"
MAX_MISSES = 2  # the second silence or wrong key goes to the agent
MAX_DIGITS = 40  # a longer `Digits` is noise, not input
DIGITS_FOR = {Awaits.CODE: 9, Awaits.DATE: 8, Awaits.APPLICATION: 11}
REPEAT_KEY, AGENT_KEY, MORE_KEY, MENU_KEY = "9", "0", "1", "8"

Mode = Literal["lang", "menu", "input"]


@dataclass(frozen=True, slots=True, kw_only=True)
class CallState:
    """Where a call stands, as the action URL of its last `<Gather>` says."""

    turn: int = 0
    mode: Mode = "lang"
    misses: int = 0
    # key pressed -> the screen's own key for that option (what USSD or SMS would type)
    keys: dict[str, str] = field(default_factory=dict)
    digits: int = 1
    lang: str = "ar"  # the call's language ("ar", "fr", "darija"), for what the menus say

    def query(self) -> str:
        values: dict[str, str | int] = {"t": self.turn, "m": self.mode, "n": self.misses}
        values.update(d=self.digits, l=self.lang)
        # Only unreserved characters, so the URL Twilio calls back is the one it signs,
        # byte for byte: `1.9_8.0` for {"1": "9", "8": "0"} (more, menu).
        keys = "_".join(f"{key}.{screen_key}" for key, screen_key in self.keys.items())
        return urlencode({**values, "k": keys} if keys else values)

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> CallState:
        """Read back `query()`; anything odd gives the defaults rather than an error."""

        def number(name: str, default: int, top: int) -> int:
            raw = params.get(name, "")
            return min(int(raw), top) if raw.isdigit() and len(raw) <= 4 else default

        mode = params.get("m", "lang")
        keys: dict[str, str] = {}
        for pair in params.get("k", "").split("_"):
            key, _, screen_key = pair.partition(".")
            if len(key) == 1 and key.isdigit() and screen_key.isdigit() and len(screen_key) < 3:
                keys[key] = screen_key
        return cls(
            turn=number("t", 0, 9999),
            mode=mode if mode in ("lang", "menu", "input") else "menu",  # type: ignore[arg-type]
            misses=number("n", 0, MAX_MISSES),
            keys=keys,
            digits=number("d", 1, MAX_DIGITS),
            lang=lang if (lang := params.get("l", "")) in ("fr", DARIJA) else "ar",
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Voices:
    """What the menus need from the settings."""

    agents_number: str | None
    timeout_s: int
    recordings: Recordings


def voice_keys(options: Sequence[Option]) -> list[tuple[str, Option]]:
    """The keys options take by phone: the screen's own, but `1` for more and `8` for the
    menu; the language switch is dropped (the call chose its language first)."""
    taken = {o.key for o in options if o.id not in ("more", "menu", "lang")}
    out: list[tuple[str, Option]] = []
    for option in options:
        if option.id == "lang":
            continue
        if option.id in ("more", "menu") or option.key in (REPEAT_KEY, AGENT_KEY):
            wanted = MORE_KEY if option.id == "more" else MENU_KEY
            free = [k for k in "12345678" if k not in taken]
            key = wanted if wanted not in taken else (free[0] if free else "")
            if not key:
                continue
            taken.add(key)
            out.append((key, option))
        else:
            out.append((option.key, option))
    return sorted(out, key=lambda pair: pair[0])


def translator_for(lang: str) -> SpokenTranslator:
    """Darija's script is the Arabic catalog."""
    return spoken_translator("ar" if lang == DARIJA else lang)


def _lines(text: str, lang: str, voices: Voices) -> list[Say]:
    """What to say for `text`, a line at a time: a recording where one exists, else the
    voice; in Darija, recordings put together, the Arabic voice for what has none."""
    said: list[Say] = []
    for line in text.split("\n"):
        if not line.strip():
            continue
        if lang == DARIJA:
            parts = voices.recordings.darija(line)
            said += [Say(text=part, lang="ar", prompt=url) for part, url in parts]
        else:
            words = plain(line)
            said.append(Say(text=words, lang=lang, prompt=voices.recordings.url_for(lang, words)))
    return said


def screen(shown: Screen, lang: str, state: CallState, voices: Voices) -> VoiceMenu:
    """One dialog screen by ear, waiting for the next key (or hanging up at the end)."""
    t = translator_for(lang)
    said = _lines(shown.text, lang, voices)
    if shown.end:
        return VoiceMenu(verbs=(*said, Hangup()))
    mode: Mode = "input" if shown.awaits is not None else "menu"
    keys: dict[str, str] = {}
    if shown.awaits is not None:
        digits = DIGITS_FOR[shown.awaits]
    else:
        pairs = voice_keys(shown.options)
        keys = {key: option.key for key, option in pairs}
        digits = 1
        for key, option in pairs:
            sentence = t.gettext(texts.OPTION, label=option.label, key=int(key))
            said += _lines(sentence, lang, voices)
    said += _lines(t.gettext(texts.WAY_OUT), lang, voices)
    following = CallState(
        turn=state.turn + 1,
        mode=mode,
        misses=state.misses,
        keys=keys,
        digits=digits,
        lang=lang,
    )
    return waiting(tuple(said), following, voices)


def waiting(said: tuple[Say, ...], state: CallState, voices: Voices) -> VoiceMenu:
    action = f"{GATHER_ROUTE}?{state.query()}"
    gather = Gather(prompts=said, keys=state.digits, action=action, timeout_s=voices.timeout_s)
    # Reached only if the gather did not call its action (it does, even on silence).
    return VoiceMenu(verbs=(gather, Redirect(url=action)))


def language_menu(state: CallState, voices: Voices, *, note: bool = False) -> VoiceMenu:
    """ "للعربية اضغط 1، pour le français tapez 2", each in its own voice."""
    said: list[Say] = []
    offered = [("ar", texts.FOR_ARABIC), ("fr", texts.FOR_FRENCH)]
    if voices.recordings.has_darija():
        offered.append((DARIJA, texts.FOR_DARIJA))
    for lang, line in offered:
        t = translator_for(lang)
        if note and lang != DARIJA:
            said += _lines(t.gettext(texts.NO_KEY), lang, voices)
        said += _lines(t.gettext(line), lang, voices)
    for lang in ("ar", "fr"):
        said += _lines(spoken_translator(lang).gettext(texts.WAY_OUT), lang, voices)
    following = CallState(turn=state.turn + 1, mode="lang", misses=state.misses)
    return waiting(tuple(said), following, voices)


def to_agent(lang: str, voices: Voices) -> VoiceMenu:
    """The transfer: the agents' number, or an apology when none is configured."""
    t = translator_for(lang)
    if voices.agents_number is None:
        return VoiceMenu(verbs=(*_lines(t.gettext(texts.NO_AGENT), lang, voices), Hangup()))
    return VoiceMenu(
        verbs=(
            *_lines(t.gettext(texts.TO_AGENT), lang, voices),
            Dial(number=voices.agents_number),
            *_lines(t.gettext(texts.GOODBYE), lang, voices),
            Hangup(),
        )
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Press:
    """What one gather callback asks for."""

    kind: Literal["agent", "repeat", "option", "input", "miss", "lang"]
    value: str = ""  # the screen's key of the option, the digits typed, the language chosen
    silent: bool = False  # a miss by silence (else a key nothing answers)


def read_press(digits: str, state: CallState, *, darija: bool = False) -> Press:
    """A gather's `Digits` in the light of the screen it answered (`darija`: the language
    menu offers it)."""
    if not digits:
        return Press(kind="miss", silent=True)
    if len(digits) > MAX_DIGITS or not digits.isdigit():
        return Press(kind="miss")  # `*`, `#`, or noise
    if digits == AGENT_KEY:
        return Press(kind="agent")
    if digits == REPEAT_KEY:
        return Press(kind="repeat")
    if state.mode == "lang":
        langs = {"1": "ar", "2": "fr", **({"3": DARIJA} if darija else {})}
        return Press(kind="lang", value=langs[digits]) if digits in langs else Press(kind="miss")
    if state.mode == "input":
        return Press(kind="input", value=digits)
    if digits in state.keys:
        return Press(kind="option", value=state.keys[digits])
    return Press(kind="miss")
