"""Handlers of the states that read free input: a Massar code, a birth date, an
application number."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from gateway.dialogs import texts
from gateway.dialogs.answers import answer_application, verify
from gateway.dialogs.conversation import Conversation, State
from gateway.dialogs.inputs import (
    parse_application_number,
    parse_birth_date,
    parse_massar_code,
    split_pair,
)
from gateway.dialogs.model import Event, Reply
from gateway.dialogs.navigation import show

Handler = Callable[[Conversation, str], Awaitable[Reply]]


async def handle_bind_code(conv: Conversation, norm: str) -> Reply:
    code = parse_massar_code(norm)
    pair = split_pair(norm)
    if code is None and pair is not None:  # code and birth date in one message
        code, birth_date = parse_massar_code(pair[0]), parse_birth_date(pair[1])
        if code is not None and birth_date is not None:
            return await verify(conv, code, birth_date)
        code = None
    if code is None:
        return await show(conv, State.BIND_CODE, note=conv.t.gettext(texts.NOT_A_CODE))
    return await show(conv, State.BIND_DOB, code=code)


async def handle_bind_dob(conv: Conversation, norm: str) -> Reply:
    birth_date = parse_birth_date(norm)
    code = conv.data.get("code")
    if code is None:
        return await show(conv, State.BIND_CODE)
    if birth_date is None:
        return await show(conv, State.BIND_DOB, note=conv.t.gettext(texts.NOT_A_DATE), code=code)
    conv.data.pop("code", None)
    return await verify(conv, code, birth_date)


async def handle_app_number(conv: Conversation, norm: str) -> Reply:
    number = parse_application_number(norm)
    if number is None:
        return await show(conv, State.APP_NUMBER, note=conv.t.gettext(texts.NOT_AN_APPLICATION))
    return await show(conv, State.APP_DOB, number=number)


async def handle_app_dob(conv: Conversation, norm: str) -> Reply:
    number = conv.data.get("number")
    if number is None:
        return await show(conv, State.APP_NUMBER)
    birth_date = parse_birth_date(norm)
    if birth_date is None:
        return await show(conv, State.APP_DOB, note=conv.t.gettext(texts.NOT_A_DATE), number=number)
    return await answer_application(conv, number, birth_date)


async def handle_ask_agent(conv: Conversation, norm: str) -> Reply:
    """The parent's question: the turn runner hands it (the whole input) to the helpdesk
    queue on the `helpdesk` event; the parent is told a person will answer here."""
    if not norm:  # nothing written (a sticker, an image): ask again
        return await show(conv, State.ASK_AGENT)
    conv.events.append(Event(kind="helpdesk", data={"lang": conv.lang.value}))
    conv.go(State.RESULT, lines=[conv.t.gettext(texts.AGENT_WILL_ANSWER)])
    return conv.reply(conv.t.gettext(texts.AGENT_WILL_ANSWER), [conv.back_option()])


INPUT_HANDLERS: dict[State, Handler] = {
    State.ASK_AGENT: handle_ask_agent,
    State.BIND_CODE: handle_bind_code,
    State.BIND_DOB: handle_bind_dob,
    State.APP_NUMBER: handle_app_number,
    State.APP_DOB: handle_app_dob,
}
