"""The dialog engine: `step(session, inbound, turn) -> Step`, one user input at a time.

Each state has a screen (`screens.py`: its prompt and options) and, when it reads free input,
a handler (`prompts.py`); picking an option goes through `on_option`. Commands typed in words
(`commands.py`: "les absences", "النقط ديال بنتي", "no9at", an application number, a Massar
code) reach the same answers from any state. The engine does no I/O of its own: the backend,
the bindings and the lockout counters come in `Turn`, with the clock and the deadline; what
the outside world should record (an unmatched message, a failed verification) leaves as
`Event`s.

Authorisation: a child is named or described only when the backend links it to the sender's
phone *and* the phone has bound it (Massar code + birth date, renewed every 180 days).
"""

from __future__ import annotations

from collections.abc import Sequence

from backend_client.errors import (
    BackendError,
    BackendRejected,
    BackendTimeout,
    BackendUnavailable,
    NotLinked,
)
from gateway.dialogs import texts
from gateway.dialogs.alerts import choose, open_alerts
from gateway.dialogs.answers import open_intent, want
from gateway.dialogs.commands import alerts_switch, command, is_bot_start, run, unmatched
from gateway.dialogs.conversation import Conversation, Intent, State, Step, Turn
from gateway.dialogs.inputs import language_hint
from gateway.dialogs.model import ChannelKind, Event, Inbound, Lang, Option, Reply, Session
from gateway.dialogs.navigation import home, show
from gateway.dialogs.prompts import INPUT_HANDLERS
from gateway.dialogs.screens import CHOICES, SCREENS
from gateway.text import normalise

__all__ = ["INPUT_HANDLERS", "SCREENS", "step"]


# --- menus ------------------------------------------------------------------------------------


def chosen(options: Sequence[Option], norm: str, option_id: str | None) -> str | None:
    """The id of the option the user picked, by key ("2") or by button id."""
    for opt in options:
        if option_id == opt.id or norm == opt.key:
            return opt.id
    return None


CLARIFIED = {option_id: cmd for cmd, (option_id, _) in CHOICES.items()}
# Screens whose content is paged with "9"; every screen but these two offers "0. Menu".
PAGED_STATES = frozenset({State.ABSENCES, State.GRADES, State.RESULT, State.REREG})
NO_BACK_STATES = frozenset({State.MAIN, State.UNLINKED})


async def handle_menu(conv: Conversation, norm: str) -> Reply:
    """Any menu state: pick an option by key or id, else show the same menu with a hint.

    "0" and "9" are answered without drawing the current screen first: drawing a content
    screen reads the backend, and its options are known anyway.
    """
    key = conv.inbound.option_id
    if (norm == "0" or key == "menu") and conv.state not in NO_BACK_STATES:
        return await home(conv)
    if (norm == "9" or key == "more") and conv.state in PAGED_STATES:
        wanted = int(conv.data.get("page", 0)) + 1
        conv.data["page"] = wanted
        reply = await SCREENS[conv.state](conv)
        if conv.data["page"] == wanted:
            return reply
    screen = await SCREENS[conv.state](conv)
    pick = chosen(screen.options, norm, conv.inbound.option_id)
    if pick is None:
        unmatched(conv)
        # Buttons are tapped, not numbered: the hint names what the channel shows.
        hint = texts.PICK_AN_OPTION if conv.turn.profile.numbered_options else texts.PICK_A_BUTTON
        return await show(conv, conv.state, note=conv.t.gettext(hint), **conv.data)
    return await on_option(conv, pick)


async def on_option(conv: Conversation, pick: str) -> Reply:
    if conv.state is State.CLARIFY and pick in CLARIFIED:
        return await run(conv, CLARIFIED[pick])  # as if the message had named only that
    if pick == "menu":
        return await home(conv)
    if pick == "more":
        conv.data["page"] = int(conv.data.get("page", 0)) + 1
        return await SCREENS[conv.state](conv)
    if pick == "lang":
        conv.set_lang(Lang.FR if conv.lang is Lang.AR else Lang.AR, chosen=True)
        # The next sessions start in it too (not from a caller ID anyone can forge).
        if conv.turn.preferences is not None and conv.turn.profile.caller_id_trusted:
            await conv.turn.preferences.set_lang(
                conv.inbound.sender, conv.lang.value, conv.turn.now
            )
        return await show(conv, conv.state, **conv.data)
    if pick in ("abs", "notes", "rereg"):
        return await want(conv, Intent(pick))
    if pick == "enrol":
        return await show(conv, State.ENROL)
    if pick == "help":
        return await show(conv, State.HELP)
    if pick == "agent":
        return await show(conv, State.ASK_AGENT)
    if pick == "alerts":
        return await open_alerts(conv)
    if pick.startswith("alert:"):
        return await choose(conv, pick)
    if pick == "app":
        return await show(conv, State.APP_NUMBER)
    if pick == "add":
        return await show(conv, State.BIND_CODE)
    if pick.startswith("child:"):
        children = await conv.children()
        index = int(pick.split(":", 1)[1]) - 1
        return await open_intent(conv, children[index])
    if pick.startswith("sem:"):
        return await show(conv, State.GRADES, semester=int(pick.split(":", 1)[1]))
    raise ValueError(f"unhandled option {pick!r}")  # a menu offered an id with no handler


# --- the step ---------------------------------------------------------------------------------


def initial_lang(session: Session | None, text: str, *, fresh: bool) -> Lang:
    """The session's language; else, until the stored preference and the guardian's are
    read (`_dispatch`), the language of what was typed, else Arabic."""
    if not fresh and session is not None and session.lang is not None:
        return session.lang
    script = language_hint(text)
    return Lang(script) if script is not None else Lang.AR


# A stored state an older release used and this one does not know restarts the conversation.
KNOWN_STATES = frozenset(state.value for state in State)


async def step(session: Session | None, inbound: Inbound, turn: Turn) -> Step:
    """Answer one input. `session` is None when none is stored (new or expired)."""
    raw = inbound.text if inbound.option_id is None else ""
    norm = normalise(raw)
    fresh = session is None or inbound.new_session
    current = Session() if session is None else session
    conv = Conversation(
        inbound=inbound,
        turn=turn,
        state=State.START if fresh or current.state not in KNOWN_STATES else State(current.state),
        lang=initial_lang(session, raw, fresh=fresh),
        lang_chosen=current.lang_chosen and not fresh,
        data=dict(current.data) if not fresh else {},
        base=current,
    )
    try:
        reply = await _dispatch(conv, norm, fresh=fresh, expired=session is None)
    except BackendUnavailable as exc:
        # A timeout may be answered later by SMS (the turn runner decides); the rest is "busy".
        slow = isinstance(exc, BackendTimeout)
        conv.events.append(Event(kind="backend_timeout" if slow else "backend_unavailable"))
        reply = conv.reply(conv.t.gettext(texts.BUSY), end=True)
    except NotLinked:
        conv.events.append(Event(kind="not_linked"))
        reply = await home(conv, note=conv.t.gettext(texts.NOT_AVAILABLE))
    except BackendRejected:
        # The backend refused a request the engine built (a 4xx it did not expect): the user
        # gets an answer and the menu, never a crash; the event shows in the logs.
        conv.events.append(Event(kind="backend_rejected"))
        conv.go(State.RESULT, lines=[conv.t.gettext(texts.NOT_AVAILABLE)])
        reply = conv.reply(conv.t.gettext(texts.NOT_AVAILABLE), [conv.back_option()])
    except BackendError:
        # An answer that breaks the contract (`BadResponse`): as good as no answer.
        conv.events.append(Event(kind="backend_bad_response"))
        reply = conv.reply(conv.t.gettext(texts.BUSY), end=True)
    return Step(session=conv.session(), replies=(reply,), events=tuple(conv.events))


async def _dispatch(conv: Conversation, norm: str, *, fresh: bool, expired: bool) -> Reply:
    # The one language rule (issue 22): the session's language, else the language stored for
    # the phone (AR/FR chosen before), else Massar's `preferred_lang` for the guardian, else
    # the script typed. It wins over the language of a keyword ("ABS" in an Arabic session).
    prefs = conv.turn.preferences
    settled = not fresh and conv.base.lang is not None
    if not settled and prefs is not None:
        stored = await prefs.lang(conv.inbound.sender)
        if stored is not None:
            conv.set_lang(Lang(stored), chosen=True)
            settled = True
    switched = await alerts_switch(conv, settled=settled)
    if switched is not None:
        return switched
    found = await conv.lookup()
    if not settled and found is not None:
        conv.set_lang(Lang(found.guardian.preferred_lang.value), chosen=False)
    if chat_opened(conv.inbound, norm):
        # Telegram's /start, or a phone number just shared: the welcome and the menu, and
        # alerts in this chat only if asked for (chat apps are opt-in, DOMAIN.md §6).
        offer = conv.t.gettext(texts.ALERTS_OFFER_CHAT) if found and found.students else ""
        return await home(conv, note=f"{conv.t.gettext(texts.WELCOME)} {offer}".strip())
    if conv.inbound.option_id == "repeat":  # the current screen again, as it stands now
        if conv.state is State.START:
            return await home(conv)
        return await SCREENS[conv.state](conv)
    if conv.state is State.ASK_AGENT and norm and norm != "0":
        return await INPUT_HANDLERS[State.ASK_AGENT](conv, norm)  # words for a person, not commands
    answer = await command(conv, norm) if norm else None
    if answer is not None:
        return answer
    if conv.state is State.START:
        is_choice = norm.isdigit() and len(norm) <= 2
        note = conv.t.gettext(texts.SESSION_ENDED) if expired and is_choice else ""
        if norm and not is_choice and not conv.inbound.new_session:
            note = conv.t.gettext(texts.NOT_UNDERSTOOD)
            unmatched(conv)
        return await home(conv, note=note)
    handler = INPUT_HANDLERS.get(conv.state)
    if handler is not None:
        if norm == "0" or conv.inbound.option_id == "menu":
            return await home(conv)
        if not any(ch.isdigit() for ch in norm):
            unmatched(conv)  # words where a code, a date or a number was expected
        return await handler(conv, norm)
    return await handle_menu(conv, norm)


def chat_opened(inbound: Inbound, norm: str) -> bool:
    """A Telegram chat starts: the bot's `/start` command, or the contact just shared."""
    if inbound.channel is not ChannelKind.TELEGRAM:
        return False
    return is_bot_start(inbound) or (inbound.new_session and not norm)
