"""The hotline's voice menu as plain values, independent of any telephony engine.

```
VoiceMenu(verbs=(Say("Massar services.", lang="fr"),
                 Gather(prompts=(Say("For absences, press one.", lang="fr"),), keys=1,
                        action="/channels/voice/twilio/gather?t=2&m=menu&k=1.abs"),
                 Redirect("/channels/voice/twilio/gather?t=2&m=menu&k=1.abs")))
```
`twilio.py` renders a menu as TwiML (`VoiceResponse`); an on-premises engine that fetches XML
per step the same way (FreeSWITCH `mod_httapi`) would be one more renderer of these values.
`Say` holds what the voice speaks; `prompt` names the recording that may replace it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class Say:
    text: str
    lang: str  # "ar" or "fr": picks the voice
    prompt: str | None = None  # URL of a recording of this very text, when one exists


@dataclass(frozen=True, slots=True, kw_only=True)
class Gather:
    """Wait for keys while the prompts play. `keys` digits end the input (1 for a menu);
    on silence the action is called all the same, with no digits."""

    prompts: tuple[Say, ...]
    keys: int
    action: str
    timeout_s: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Dial:
    number: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Redirect:
    url: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Hangup:
    pass


Verb = Say | Gather | Dial | Redirect | Hangup


@dataclass(frozen=True, slots=True, kw_only=True)
class VoiceMenu:
    verbs: tuple[Verb, ...]

    def said(self) -> list[Say]:
        """Every `Say`, in the order the caller hears them (a gather's prompts included)."""
        out: list[Say] = []
        for verb in self.verbs:
            if isinstance(verb, Say):
                out.append(verb)
            elif isinstance(verb, Gather):
                out.extend(verb.prompts)
        return out
