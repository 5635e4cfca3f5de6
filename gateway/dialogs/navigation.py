"""Moving between states: `show` enters a state and draws its screen, `home` goes back to the
main menu (or the unlinked one). Screens register themselves in `SCREENS` (`screens.py`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from gateway.dialogs.conversation import Conversation, State
from gateway.dialogs.model import Lang, Option, Reply
from gateway.dialogs.pages import fits, with_options

Screen = Callable[[Conversation], Awaitable[Reply]]
# Options a screen with a note may leave out where it is short of room (an Arabic USSD main
# menu with a hint): the alerts menu, which the parent can also reach by typing ALERTES.
OPTIONAL = frozenset({"alerts"})
SCREENS: dict[State, Screen] = {}
"""Each state's screen; `screens.py` fills it when imported (the engine imports it)."""


async def show(conv: Conversation, state: State, *, note: str = "", **data: Any) -> Reply:
    """Enter `state` and render its screen, with an optional note on top."""
    conv.go(state, **data)
    reply = await SCREENS[state](conv)
    if note:
        # On a small screen the note replaces the prompt rather than push the options off;
        # if that is not enough, the options a crowded screen may leave out go (still
        # answered when typed: the screen itself offers them).
        text = conv.fold(note) + "\n" + reply.text
        profile = conv.turn.profile
        drawn = with_options(text, reply.options) if profile.numbered_options else text
        options = reply.options
        if not fits(profile, drawn):
            text = conv.fold(note)
            if profile.numbered_options and not fits(profile, with_options(text, options)):
                options = tuple(o for o in options if o.id not in OPTIONAL)
        reply = replace(reply, text=text, options=options)
    return reply


async def home(conv: Conversation, *, note: str = "") -> Reply:
    found = await conv.lookup()
    if found is None or not found.students:
        return await show(conv, State.UNLINKED, note=note)
    conv.data.pop("intent", None)
    conv.data.pop("child", None)
    return await show(conv, State.MAIN, note=note)


def lang_switch_option(conv: Conversation, key: str) -> Option:
    # "Arabe", not "العربية", on French screens: one Arabic letter would turn the whole
    # SMS or USSD screen into UCS-2 and halve what fits on it.
    return Option(key=key, id="lang", label="Français" if conv.lang is Lang.AR else "Arabe")
