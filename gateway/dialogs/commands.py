"""Commands: what SMS users type instead of menu keys, obeyed from any state.

A message is read in this order:
1. an application number (`PRE-2026-0000001`, with or without the birth date), unless an
   application prompt is waiting for it;
2. a Massar code (with or without the birth date) from a phone the backend links to children;
   at a prompt only when the message also names a request for a child (`Z123456789 notes`):
   the request waits for the verification, which decides the child. A code alone at a prompt
   is the prompt's;
3. the words (`intents.understand`): one request does what it says, whatever prompt waits;
   two get a question (`CLARIFY`); a greeting gets the menu with a welcome.
Anything else is the current state's to read (`None`).

Before all that, a message that is only an alerts switch (`STOP`, `ARRÊT`, `توقف`, `7bes`;
`START`, `ابدأ`: a word or two, nothing else) turns alerts off or on for the phone, at any
prompt; in a sentence ("stop les notes") those words decide nothing.
"""

from __future__ import annotations

import contextlib

from backend_client.errors import BackendError
from gateway.dialogs import texts
from gateway.dialogs.alerts import open_alerts
from gateway.dialogs.answers import answer_application, open_intent, verify, want
from gateway.dialogs.conversation import Conversation, Intent, State
from gateway.dialogs.inputs import (
    application_command,
    parse_birth_date,
    parse_massar_code,
    split_pair,
)
from gateway.dialogs.intents import Reading, understand
from gateway.dialogs.masking import mask
from gateway.dialogs.model import ChannelKind, Event, Inbound, Lang, Reply
from gateway.dialogs.navigation import home, show
from gateway.dialogs.scope import out_of_scope
from gateway.dialogs.tokens import is_word
from gateway.dialogs.vocabulary import Command

# Requests about one child, and the engine's name for them.
CHILD_REQUESTS = {
    Command.ABSENCES: Intent.ABSENCES,
    Command.MARKS: Intent.GRADES,
    Command.REREGISTRATION: Intent.REREGISTRATION,
}
PROMPTS = frozenset({State.BIND_CODE, State.BIND_DOB, State.APP_NUMBER, State.APP_DOB})
ALERT_SWITCHES = frozenset({Command.STOP, Command.START})
CHAT_APPS = frozenset({ChannelKind.WHATSAPP, ChannelKind.TELEGRAM})  # alerts can go there
SWITCH_MAX_WORDS = 3  # "stop", "stop sms svp"; a longer message is not a switch
APPLICATION_PROMPTS = frozenset({State.APP_NUMBER, State.APP_DOB})


async def command(conv: Conversation, norm: str) -> Reply | None:
    """The answer to a message that is a command, or None for the state to read it."""
    reading = understand(conv.inbound.text)
    if reading.command in ALERT_SWITCHES:
        return None  # in a sentence: not a switch (`alerts_switch` took the bare word)
    refused = await elsewhere(conv)
    if refused is not None:
        return refused
    if conv.state not in APPLICATION_PROMPTS:
        pair = split_pair(norm)
        number = application_command(norm, pair)
        if number is not None:
            birth_date = parse_birth_date(pair[1]) if pair else None
            if birth_date is not None:
                return await answer_application(conv, number, birth_date)
            return await show(conv, State.APP_DOB, number=number)
        reply = await _massar_code(conv, norm, reading)
        if reply is not None:
            return reply
    if reading.choices:
        return await show(conv, State.CLARIFY, choices=[c.value for c in reading.choices])
    if reading.command is not None:
        return await run(conv, reading.command)
    return None


async def _massar_code(conv: Conversation, norm: str, reading: Reading) -> Reply | None:
    request = CHILD_REQUESTS.get(reading.command) if reading.command else None
    if conv.state in PROMPTS and request is None:
        return None  # codes and dates typed at a prompt belong to that prompt
    code, rest = _code_and_rest(norm)
    if code is None:
        return None
    found = await conv.lookup()
    if found is None or not found.students:
        # No child is linked to this phone: a code (and date) can bind nothing. Say why and
        # what to do; no backend verification, so nothing about the code is confirmed.
        conv.events.append(Event(kind="unregistered_phone"))
        text = conv.t.gettext(texts.NOT_REGISTERED)
        conv.go(State.RESULT, lines=[text])
        return conv.reply(text, end=True)
    if request is not None:
        conv.data["intent"] = request.value
    birth_date = parse_birth_date(rest) if rest else None
    if birth_date is not None:
        return await verify(conv, code, birth_date)
    return await show(conv, State.BIND_DOB, code=code)


def _code_and_rest(norm: str) -> tuple[str | None, str]:
    """A Massar code among the message's parts (never digits alone: those are menu keys or
    dates), and the parts left that are not words."""
    compact = norm.replace(" ", "")
    if not compact.isdigit() and parse_massar_code(compact) is not None:
        return parse_massar_code(compact), ""  # "Z 990000001"
    parts = norm.split()
    for i, part in enumerate(parts):
        code = None if part.isdigit() else parse_massar_code(part)
        if code is not None:
            rest = [p for j, p in enumerate(parts) if j != i and not is_word(p)]
            return code, " ".join(rest)
    return None, ""


async def run(conv: Conversation, cmd: Command) -> Reply:
    """Do what one command says."""
    if cmd in CHILD_REQUESTS:
        intent = CHILD_REQUESTS[cmd]
        if intent is Intent.GRADES:
            # One bound child: straight to the latest published marks, no semester menu.
            conv.data["intent"] = intent.value
            children = await conv.children()
            if len(children) == 1 and not await conv.unbound():
                return await open_intent(conv, children[0], auto=True)
        return await want(conv, intent)
    if cmd is Command.ENROLMENT:
        return await show(conv, State.ENROL)
    if cmd is Command.PREREGISTRATION:
        return await show(conv, State.APP_NUMBER)
    if cmd is Command.HELP:
        return await show(conv, State.HELP)
    if cmd is Command.ALERTS:
        return await open_alerts(conv)
    if cmd in (Command.LANG_AR, Command.LANG_FR):
        conv.set_lang(Lang.AR if cmd is Command.LANG_AR else Lang.FR, chosen=True)
        if conv.turn.preferences is not None:  # the next sessions start in it too
            await conv.turn.preferences.set_lang(
                conv.inbound.sender, conv.lang.value, conv.turn.now
            )
        return await home(conv)
    if cmd is Command.GREETING:
        return await home(conv, note=conv.t.gettext(texts.WELCOME))
    return await home(conv)  # Command.MENU


def is_bot_start(inbound: Inbound) -> bool:
    """Telegram's `/start` (the app sends it when a user opens the bot, maybe with a payload)."""
    words = inbound.text.strip().lower().split()
    if inbound.channel is not ChannelKind.TELEGRAM or not words:
        return False
    return words[0] == "/start" or words[0].startswith("/start@")  # "/start@SomeBot"


async def alerts_switch(conv: Conversation, *, settled: bool = True) -> Reply | None:
    """The answer to a message that is only STOP or START (alerts off or on again for the
    sender's phone), or None. Done before anything reads the backend: it works while
    Massar is down, and from a phone the backend does not know. Unless the language is
    `settled`, the confirmation then tries Massar's `preferred_lang` for the guardian."""
    if conv.inbound.option_id is not None or is_bot_start(conv.inbound):
        return None  # Telegram's /start opens the chat: it turns nothing on by itself
    reading = understand(conv.inbound.text)
    if reading.command not in ALERT_SWITCHES:
        return None
    if reading.words > SWITCH_MAX_WORDS or reading.unknown:
        return None
    stop = reading.command is Command.STOP
    inbound, prefs = conv.inbound, conv.turn.preferences
    # Alerts go where START was sent: a chat app, or SMS from any other channel.
    # (A Telegram chat is reachable only through its address, which its inbound carries.)
    telegram = inbound.channel is ChannelKind.TELEGRAM
    chat = inbound.channel in CHAT_APPS and (inbound.reply_to is not None or not telegram)
    if prefs is not None:
        if stop:
            await prefs.opt_out(inbound.sender, conv.turn.now)
        else:
            await prefs.opt_in(inbound.sender, conv.turn.now)
            channel = inbound.channel.value if chat else ChannelKind.SMS.value
            address = inbound.reply_to if telegram else None
            await prefs.set_channel(inbound.sender, channel, address, conv.turn.now)
    if not settled:
        with contextlib.suppress(BackendError):  # Massar down: the words typed decide
            found = await conv.lookup()
            if found is not None:
                conv.set_lang(Lang(found.guardian.preferred_lang.value), chosen=False)
    conv.events.append(Event(kind="alerts_stopped" if stop else "alerts_started"))
    conv.go(State.START)
    said = texts.ALERTS_STOPPED if stop else texts.ALERTS_HERE if chat else texts.ALERTS_STARTED
    return conv.reply(conv.t.gettext(said), end=True)


def unmatched(conv: Conversation, *, reason: str = "") -> None:
    """Ask the outside world to count and keep (masked) a message with words nothing read
    (or words read as a question the gateway does not serve: `reason`)."""
    text = conv.inbound.text
    if conv.inbound.option_id is None and understand(text).words:
        data = {"text": mask(text, conv.known_names()), "state": conv.state.value}
        data["lang"] = conv.lang.value
        if reason:
            data["reason"] = reason
        conv.events.append(Event(kind="unmatched", data=data))


async def elsewhere(conv: Conversation) -> Reply | None:
    """A question about something the gateway has no data for (`scope.py`): what it can do
    and the hotline, with the menu; never a data answer."""
    if conv.inbound.option_id is not None or out_of_scope(conv.inbound.text) is None:
        return None
    unmatched(conv, reason="out_of_scope")
    return await home(conv, note=conv.t.gettext(texts.OUT_OF_SCOPE))
