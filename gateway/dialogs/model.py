"""The engine's values: what a channel hands in, what it gets back, and the session between.

```
Inbound ──> step(session, inbound, ctx) ──> Step(session, replies, events) ──> Screen
```
Channels build `Inbound` and render the `Screen` a turn shows (its last `Reply`, with the
session's language and child); nothing here knows a provider's word.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ChannelKind(StrEnum):
    USSD = "ussd"
    SMS = "sms"
    WHATSAPP = "whatsapp"
    TELEGRAM = "telegram"
    VOICE = "voice"


class Lang(StrEnum):
    AR = "ar"
    FR = "fr"


@dataclass(frozen=True, slots=True, kw_only=True)
class Inbound:
    """One user input, whatever the channel. `sender` is already E.164."""

    channel: ChannelKind
    sender: str
    text: str = ""
    option_id: str | None = None  # a tapped button's id, when the channel has buttons
    message_id: str  # the provider's id of this input, for dedupe
    session_id: str | None = None  # the provider's session (USSD), if any
    new_session: bool = False  # the provider says this input opens a session (USSD dial)
    received_at: datetime
    network: str | None = None  # operator code (USSD), to pick a screen language
    # Where the channel's messages reach the user when that is not `sender` (a Telegram chat,
    # `telegram:<chat id>`): alerts asked for here (START) go there.
    reply_to: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Option:
    """A choice offered to the user.

    `id` is channel-neutral (`abs`, `child:2`); `key` is what the user types or presses for
    it on a keypad ("1", "9" for more, "0" for back); buttons send the `id` back instead.
    An input whose `option_id` is `repeat` draws the current screen again.
    """

    key: str
    id: str
    label: str


class Awaits(StrEnum):
    """What a prompt reads besides a choice: a keypad channel sizes its input by it."""

    CODE = "code"  # a Massar code: a letter and nine digits (the nine digits on a keypad)
    DATE = "date"  # a birth date, DDMMYYYY
    APPLICATION = "application"  # an application number: PRE, four digits, seven digits


@dataclass(frozen=True, slots=True, kw_only=True)
class Reply:
    """Localised text with optional options; `end_session` closes the conversation.

    `awaits` is set when the screen is a prompt for free input rather than a menu.
    """

    text: str
    options: tuple[Option, ...] = ()
    end_session: bool = False
    awaits: Awaits | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Screen:
    """What one turn shows the user, whatever the channel: the last reply's text and options,
    whether it ends the session, what a prompt reads, and from the session its language and
    the child (an opaque id) the text is about, if one.

    The turn hands it to its channel, which renders it on its own wire (USSD text, Kannel's
    headers, TwiML, Meta's buttons, Telegram's keyboard, speech); the state layer keeps it
    to answer a repeat of the request (`gateway.state.screens`).
    """

    text: str
    options: tuple[Option, ...] = ()
    end: bool = False
    awaits: Awaits | None = None
    lang: Lang | None = None
    child: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelProfile:
    """What a channel can show: the engine pages content to fit `max_chars` per reply.

    Chat apps draw options as buttons, outside the text (`numbered_options=False`), and show
    every letter (`gsm_letters=False`: French keeps its accents); SMS and USSD count both.
    """

    kind: ChannelKind
    max_chars_gsm7: int
    max_chars_ucs2: int
    numbered_options: bool = True  # options are shown as "1. label" lines in the text budget
    # A channel that speaks (voice): numbers, dates, times and codes are written out for the ear
    # ("quatorze virgule cinq"), and screen texts give way to their spoken variants.
    spoken: bool = False
    # Whether the channel's sender id proves the phone (an operator's MSISDN does; a caller ID
    # can be spoofed). When it does not, a child is shown only after the Massar code and birth
    # date were checked in this very session, whatever the phone bound before.
    caller_id_trusted: bool = True
    gsm_letters: bool = True  # French is folded to GSM-7 letters (one SMS holds 160, not 70)
    # A text channel whose next message can wait for a person (the console's helpdesk):
    # its main menu offers "talk to a person". USSD sessions end in seconds, and voice has
    # its own key for an agent, so neither sets it.
    helpdesk: bool = False
    # Keypad channels (USSD, voice) offer "Alerts" in the main menu; where a parent types,
    # the word (ALERTES, تنبيهات) opens the same menu.
    alerts_menu: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertTimes:
    """When the summaries a phone may choose go out, local time (the alerts' settings): the
    daily digest, and the weekly summary's day (0 is Monday) and time."""

    daily: time = time(18, 0)
    weekday: int = 4
    weekly: time = time(18, 0)


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """Something the engine asks the outside world to do or record (no I/O of its own)."""

    kind: str
    data: dict[str, Any] = field(default_factory=dict)


class Session(BaseModel):
    """A conversation's state, kept in Redis as compact JSON with a TTL per channel.

    `rev` grows by one on every write; a write whose `rev` is not the stored one + 1 loses
    (optimistic concurrency). Only opaque ids live here: no names, codes, dates or marks.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    v: int = 1  # schema version
    rev: int = 0
    state: str = "start"
    lang: Lang | None = None
    lang_chosen: bool = False
    data: dict[str, Any] = Field(default_factory=dict)
    # The adapter's own bookkeeping (a USSD provider session id, how much of its input path
    # is consumed); the engine carries it through untouched.
    channel: dict[str, str] = Field(default_factory=dict)

    def with_(self, **changes: Any) -> Session:
        return self.model_copy(update=changes)
