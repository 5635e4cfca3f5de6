"""Every reachable dialog state, rendered on each chat channel, stays within its limits.

The walk of `tests/gateway/test_ussd_screens.py`, on WhatsApp through Twilio (a TwiML
`<Message>` of at most 1,600 characters), WhatsApp through Meta (the Graph API body its
sender would post: ≤3 buttons titled ≤20, lists of ≤10 rows titled ≤24, bodies ≤1,024, ids
within Meta's limits, every option drawn) and Telegram (text ≤4,096, `callback_data` ≤64
bytes, every option a button). It taps every option of every distinct screen and types the
demo codes and dates at prompts, for a guardian with two children, one with one child and an
unlinked phone, in Arabic and in French.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from gateway.dialogs.model import Session
from gateway.outbox.model import OutMessage
from gateway.outbox.senders.meta import payload
from gateway.outbox.senders.telegram import keyboard
from tests.gateway.chat.handsets import (
    ChatGateway,
    MetaHandset,
    Screen,
    TelegramHandset,
    TwilioHandset,
)

pytestmark = pytest.mark.redis

TYPED = {
    "+212600000001": ["Z990000002", "02052008", "20260000001", "01062020", "12345"],
    "+212600000002": ["Z990000003", "14032012", "20260000002", "20022020", "31022020"],
    "+212600000099": ["20260000001", "01062020", "Z990000001", "12345"],
}
MAX_SCREENS = 30
MAX_DEPTH = 6
Handset = MetaHandset | TelegramHandset | TwilioHandset


def meta_problems(msg: OutMessage) -> list[str]:
    body = payload(msg)
    if body["type"] == "text":
        text = body["text"]["body"]
        return [f"text of {len(text)}"] if len(text) > 4096 else []
    inter = body["interactive"]
    problems = [] if len(inter["body"]["text"]) <= 1024 else ["body over 1,024"]
    if inter["type"] == "button":
        buttons = [b["reply"] for b in inter["action"]["buttons"]]
        problems += ["over 3 buttons"] if len(buttons) > 3 else []
        problems += [f"title {b['title']!r}" for b in buttons if len(b["title"]) > 20]
        problems += [f"id {b['id']!r}" for b in buttons if not 0 < len(b["id"]) <= 256]
        drawn = len(buttons)
    else:
        rows = [row for section in inter["action"]["sections"] for row in section["rows"]]
        problems += ["over 10 rows"] if len(rows) > 10 else []
        problems += [f"row {r['title']!r}" for r in rows if len(r["title"]) > 24]
        problems += [
            f"description {r['description']!r}" for r in rows if len(r.get("description", "")) > 72
        ]
        problems += [f"id {r['id']!r}" for r in rows if not 0 < len(r["id"]) <= 200]
        problems += ["list button"] if len(inter["action"]["button"]) > 20 else []
        drawn = len(rows)
    return problems + ([] if drawn == len(msg.options) else ["an option not drawn"])


def telegram_problems(msg: OutMessage) -> list[str]:
    problems = [f"text of {len(msg.text)}"] if len(msg.text) > 4096 else []
    markup = keyboard(msg.options)
    buttons = [b for row in getattr(markup, "inline_keyboard", ()) for b in row]
    problems += [
        f"callback_data {b.callback_data!r}"
        for b in buttons
        if len(str(b.callback_data).encode()) > 64
    ]
    return problems + ([] if len(buttons) == len(msg.options) else ["an option not drawn"])


def walk(
    handset: Handset,
    lang_key: str,
    typed: list[str],
    problems_of: Callable[[], list[str]],
) -> tuple[set[Screen], list[str]]:
    """Breadth first from the menu in `lang_key`; each screen is explored from a copy of the
    session that showed it, so no path is replayed."""
    chat, kind, phone = handset.chat, handset.kind, handset.phone
    seen: set[Screen] = set()
    problems: list[str] = []

    def reached(screen: Screen, depth: int) -> tuple[Screen, list[str], Session | None, int]:
        return screen, problems_of(), chat.snapshot(kind, phone), depth

    handset.reset()
    frontier = [reached(handset.type(lang_key), 0)]
    while frontier and len(seen) < MAX_SCREENS:
        screen, found, session, depth = frontier.pop(0)
        if screen in seen:
            continue
        seen.add(screen)
        problems += [f"{screen.text[:40]!r}: {p}" for p in found]
        if depth >= MAX_DEPTH:
            continue
        actions = [("tap", option_id) for option_id in screen.ids]
        if screen.ids in (["menu"], ["0"]):  # a prompt: what the user types there
            actions += [("type", text) for text in typed]
        for action, value in actions:
            chat.restore(kind, phone, session)
            after = handset.type(value) if action == "type" else handset.tap(screen, value)
            frontier.append(reached(after, depth + 1))
    return seen, problems


@pytest.fixture
def walker(make_chat_gateway: Callable[..., ChatGateway]) -> ChatGateway:
    """A walk sends hundreds of messages a minute from one phone: no rate limit here."""
    return make_chat_gateway(rate_limit_per_minute=1_000_000)


# Two children (both bound along the way) and no child; one child is the USSD walk's case.
PHONES = [
    ("+212600000001", "AR"),
    ("+212600000001", "FR"),
    ("+212600000099", "AR"),
    ("+212600000099", "FR"),
]


@pytest.mark.parametrize(("phone", "lang_key"), PHONES)
def test_every_screen_fits_whatsapp_meta(walker: ChatGateway, phone: str, lang_key: str) -> None:
    chat = walker
    handset = MetaHandset(chat, phone)
    seen, problems = walk(
        handset, lang_key, TYPED[phone], lambda: meta_problems(chat.queued(phone)[-1])
    )
    assert not problems, "\n".join(problems)
    assert len(seen) >= 12  # menus, prompts, answers and notes, not just the first screens


@pytest.mark.parametrize(("phone", "lang_key"), PHONES)
def test_every_screen_fits_telegram(walker: ChatGateway, phone: str, lang_key: str) -> None:
    chat = walker
    handset = TelegramHandset(chat, phone)
    handset.share_contact()
    seen, problems = walk(
        handset,
        lang_key,
        TYPED[phone],
        lambda: telegram_problems(chat.queued(handset.address)[-1]),
    )
    assert not problems, "\n".join(problems)
    assert len(seen) >= 12  # menus, prompts, answers and notes, not just the first screens


@pytest.mark.parametrize(("phone", "lang_key"), PHONES)
def test_every_screen_fits_whatsapp_twilio(walker: ChatGateway, phone: str, lang_key: str) -> None:
    chat = walker
    handset = TwilioHandset(chat, phone)
    seen, problems = walk(
        handset,
        lang_key,
        TYPED[phone],
        lambda: [f"message of {len(handset.last)}"] if len(handset.last) > 1600 else [],
    )
    assert not problems, "\n".join(problems)
    assert len(seen) >= 12  # menus, prompts, answers and notes, not just the first screens
