"""The screen of every state: its prompt and options, or the answer it shows."""

from __future__ import annotations

from gateway.dialogs import texts
from gateway.dialogs.alerts import screen_alerts
from gateway.dialogs.answers import answer_absences, answer_grades, answer_reregistration, locked
from gateway.dialogs.conversation import Conversation, State
from gateway.dialogs.model import Awaits, Option, Reply
from gateway.dialogs.navigation import SCREENS, home, lang_switch_option
from gateway.dialogs.vocabulary import Command

__all__ = ["SCREENS"]


async def screen_main(conv: Conversation) -> Reply:
    t = conv.t
    options = [
        Option(key="1", id="abs", label=t.gettext(texts.ABSENCES)),
        Option(key="2", id="notes", label=t.gettext(texts.MARKS)),
        Option(key="3", id="enrol", label=t.gettext(texts.ENROLMENT)),
        Option(key="4", id="help", label=t.gettext(texts.HELP)),
    ]
    profile = conv.turn.profile
    if not profile.spoken:  # a call chose its language before the menu
        options.append(lang_switch_option(conv, "5"))
    if profile.alerts_menu:  # USSD and voice; elsewhere the parent types ALERTES
        key = str(len(options) + 1)
        options.append(Option(key=key, id="alerts", label=t.gettext(texts.ALERTS)))
    key = str(len(options) + 1)
    return conv.reply(t.gettext(texts.MAIN_TITLE), [*options, *agent_option(conv, key)])


async def screen_unlinked(conv: Conversation) -> Reply:
    t = conv.t
    options = [
        Option(key="1", id="app", label=t.gettext(texts.PREREGISTRATION_STATUS)),
        Option(key="2", id="help", label=t.gettext(texts.HELP)),
        lang_switch_option(conv, "3"),
    ]
    return conv.reply(t.gettext(texts.UNLINKED), [*options, *agent_option(conv, "4")])


def agent_option(conv: Conversation, key: str) -> list[Option]:
    """ "Talk to a person", on the channels whose profile can wait for the helpdesk."""
    if not conv.turn.profile.helpdesk:
        return []
    return [Option(key=key, id="agent", label=conv.t.gettext(texts.TALK_TO_PERSON))]


async def screen_ask_agent(conv: Conversation) -> Reply:
    return conv.reply(conv.t.gettext(texts.ASK_AGENT), [conv.back_option()])


async def screen_child(conv: Conversation) -> Reply:
    children = await conv.children()
    options = [
        Option(key=str(i), id=f"child:{i}", label=conv.child_label(s))
        for i, s in enumerate(children, start=1)
    ]
    if await conv.unbound():
        options.append(
            Option(key=str(len(options) + 1), id="add", label=conv.t.gettext(texts.ADD_CHILD))
        )
    options.append(conv.back_option())
    return conv.reply(conv.t.gettext(texts.CHOOSE_CHILD), options)


async def screen_bind_code(conv: Conversation) -> Reply:
    if await conv.turn.lockout.is_locked(conv.inbound.sender, call=conv.call_id()):
        return await locked(conv)
    return conv.reply(conv.t.gettext(texts.ASK_CODE), [conv.back_option()], awaits=Awaits.CODE)


async def screen_bind_dob(conv: Conversation) -> Reply:
    text = conv.t.gettext(texts.ASK_CHILD_DOB)
    return conv.reply(text, [conv.back_option()], awaits=Awaits.DATE)


async def screen_semester(conv: Conversation) -> Reply:
    t = conv.t
    options = [
        Option(key="1", id="sem:1", label=t.gettext(texts.SEMESTER_N, n=1)),
        Option(key="2", id="sem:2", label=t.gettext(texts.SEMESTER_N, n=2)),
        conv.back_option(),
    ]
    return conv.reply(t.gettext(texts.CHOOSE_SEMESTER), options)


async def screen_enrol(conv: Conversation) -> Reply:
    t = conv.t
    options = [Option(key="1", id="app", label=t.gettext(texts.PREREGISTRATION_STATUS))]
    found = await conv.lookup()
    if found is not None and found.students:
        options.append(Option(key="2", id="rereg", label=t.gettext(texts.REREGISTRATION_STATUS)))
    options.append(conv.back_option())
    return conv.reply(t.gettext(texts.ENROLMENT_TITLE), options)


async def screen_app_number(conv: Conversation) -> Reply:
    text = conv.t.gettext(texts.ASK_APPLICATION)
    return conv.reply(text, [conv.back_option()], awaits=Awaits.APPLICATION)


async def screen_app_dob(conv: Conversation) -> Reply:
    text = conv.t.gettext(texts.ASK_CHILD_DOB)
    return conv.reply(text, [conv.back_option()], awaits=Awaits.DATE)


async def screen_help(conv: Conversation) -> Reply:
    return conv.reply(conv.t.gettext(texts.HELP_TEXT), [conv.back_option()])


async def screen_absences(conv: Conversation) -> Reply:
    return await answer_absences(conv)


async def screen_grades(conv: Conversation) -> Reply:
    return await answer_grades(conv)


async def screen_result(conv: Conversation) -> Reply:
    """A finished answer, paged; it holds no name, code, date of birth or mark."""
    lines = [str(line) for line in conv.data.get("lines", [])]
    return conv.paged(lines, header="", footer="")


async def screen_rereg(conv: Conversation) -> Reply:
    return await answer_reregistration(conv)


# What each request is called when a message asked for several (`CLARIFY`): the option id
# `on_option` knows and the label of the main menu.
CHOICES = {
    Command.ABSENCES: ("abs", texts.ABSENCES),
    Command.MARKS: ("notes", texts.MARKS),
    Command.ENROLMENT: ("enrol", texts.ENROLMENT),
    Command.PREREGISTRATION: ("app", texts.PREREGISTRATION_STATUS),
    Command.REREGISTRATION: ("rereg", texts.REREGISTRATION_STATUS),
}


async def screen_clarify(conv: Conversation) -> Reply:
    """The requests one message named, to pick one of (never a guess)."""
    named = [Command(c) for c in conv.data.get("choices", []) if c in CHOICES]
    options = [
        Option(key=str(i), id=CHOICES[c][0], label=conv.t.gettext(CHOICES[c][1]))
        for i, c in enumerate(named, start=1)
    ]
    options.append(conv.back_option())
    return conv.reply(conv.t.gettext(texts.WHICH_ONE), options)


async def screen_start(conv: Conversation) -> Reply:
    return await home(conv)


SCREENS.update(
    {
        State.START: screen_start,
        State.MAIN: screen_main,
        State.UNLINKED: screen_unlinked,
        State.CHILD: screen_child,
        State.BIND_CODE: screen_bind_code,
        State.BIND_DOB: screen_bind_dob,
        State.ABSENCES: screen_absences,
        State.SEMESTER: screen_semester,
        State.GRADES: screen_grades,
        State.ENROL: screen_enrol,
        State.APP_NUMBER: screen_app_number,
        State.APP_DOB: screen_app_dob,
        State.RESULT: screen_result,
        State.REREG: screen_rereg,
        State.HELP: screen_help,
        State.CLARIFY: screen_clarify,
        State.ASK_AGENT: screen_ask_agent,
        State.ALERTS: screen_alerts,
    }
)
