"""What the chat-app adapters (WhatsApp through Twilio or Meta, Telegram) share.

Their profiles (CHANNELS.md §12): WhatsApp through Twilio shows numbered options in a
TwiML `<Message>` (1,600 characters); Meta and Telegram draw options as buttons and lists,
outside the text, so the engine pages their text without the option lines. None of them
folds French to GSM-7 letters. Meta's and Telegram's replies leave through the outbox at
interactive priority, each under an idempotency key derived from the provider's id of the
input (a redelivery cannot send twice). What they cannot read (an image, a voice note, a
sticker…) gets one short sentence in the user's language.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

import structlog
from fastapi import Request
from fastapi.responses import PlainTextResponse, Response

from gateway.channels.twilio_sms import MAX_INPUT_CHARS
from gateway.deps import runtime
from gateway.dialogs.model import (
    ChannelKind,
    ChannelProfile,
    Inbound,
    Lang,
    Option,
    Screen,
    Session,
)
from gateway.failures import part_down
from gateway.i18n import translator
from gateway.outbox.model import MessageKind, OutChannel, OutMessage, outbound
from gateway.state.errors import StoreError, StoreUnavailable
from gateway.state.store import SessionStore
from gateway.state.whatsapp import WhatsAppWindow
from gateway.turns.turn import Prepare

log = structlog.get_logger("gateway.channels.chat")

WHATSAPP_TWILIO_PROFILE = ChannelProfile(
    kind=ChannelKind.WHATSAPP,
    max_chars_gsm7=1600,
    max_chars_ucs2=1600,
    gsm_letters=False,
    helpdesk=True,
)
# 1,024: the body of an interactive (buttons, list) message; a plain text may be 4,096.
WHATSAPP_META_PROFILE = ChannelProfile(
    kind=ChannelKind.WHATSAPP,
    max_chars_gsm7=1024,
    max_chars_ucs2=1024,
    numbered_options=False,
    gsm_letters=False,
    helpdesk=True,
)
TELEGRAM_PROFILE = ChannelProfile(
    kind=ChannelKind.TELEGRAM,
    max_chars_gsm7=4096,
    max_chars_ucs2=4096,
    numbered_options=False,
    gsm_letters=False,
    helpdesk=True,
)
# A turn's answer is remembered this long under the provider's message id (replays).
DEDUPE_S = 24 * 3600


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatInput:
    """One chat message the engine can read: typed text or a tapped option's id."""

    message_id: str
    phone: str  # E.164: the identity, exactly as on SMS
    text: str = ""
    option_id: str | None = None
    new_session: bool = False  # a Telegram contact just shared: start from the menu
    reply_to: str | None = None  # the chat's address when it is not the phone (Telegram)


def chat_turn(kind: ChannelKind, msg: ChatInput, now: datetime) -> Prepare:
    """The turn of one chat message: like SMS, no provider session to derive input from."""

    def prepare(stored: Session | None) -> tuple[Inbound, Session | None]:
        inbound = Inbound(
            channel=kind,
            sender=msg.phone,
            text=msg.text[:MAX_INPUT_CHARS],
            option_id=msg.option_id,
            message_id=msg.message_id,
            new_session=msg.new_session,
            received_at=now,
            reply_to=msg.reply_to,
        )
        return inbound, stored

    return prepare


async def user_lang(
    sessions: SessionStore, kind: ChannelKind, phone: str | None, hint: str | None = None
) -> Lang:
    """The language to answer in outside a turn: the session's, else the app's (Telegram's
    `language_code`), else Arabic (the engine's default)."""
    if phone is not None:
        try:
            stored = await sessions.load(kind, phone)
        except StoreUnavailable:
            stored = None
        if stored is not None and stored.lang is not None:
            return stored.lang
    return Lang.FR if (hint or "").lower().startswith("fr") else Lang.AR


def say(lang: Lang, message: str) -> str:
    """One catalog sentence in `lang` (chat apps show every letter: no GSM-7 folding)."""
    return translator(lang).gettext(message)


def reply_message(
    *,
    channel: OutChannel,
    to: str,
    key: str,
    text: str,
    now: datetime,
    options: tuple[Option, ...] = (),
) -> OutMessage:
    """An interactive reply for the outbox; `key` makes a redelivered input send nothing."""
    return outbound(
        MessageKind.REPLY, key=key, channel=channel, to=to, text=text, now=now, options=options
    )


async def run_and_queue(
    request: Request,
    *,
    profile: ChannelProfile,
    msg: ChatInput,
    to: str,
    key: str,
    now: datetime,
) -> Response | None:
    """Run the turn of `msg` and queue its reply to `to`; None when done, else the 503 that
    makes the provider deliver the message again (the store or the queue failed)."""
    state = runtime(request)
    try:
        screen: Screen = await state.turns.run(
            chat_turn(profile.kind, msg, now),
            profile=profile,
            user=msg.phone,
            budget_s=state.settings.sms_budget_s,
            message_id=msg.message_id,
            remember_s=DEDUPE_S,
        )
        channel = OutChannel(profile.kind.value)
        reply = reply_message(
            channel=channel, to=to, key=key, text=screen.text, options=screen.options, now=now
        )
        await state.outbox.enqueue(replace(reply, student=screen.child))
    except StoreUnavailable as exc:
        part_down(exc.part, "chat_turn", exc)
        return try_again()
    return None


async def queue_notice(request: Request, msg: OutMessage) -> Response | None:
    """Queue a reply built outside a turn; None when queued, else a 503."""
    try:
        await runtime(request).outbox.enqueue(msg)
    except StoreUnavailable:
        return try_again()
    return None


def try_again() -> Response:
    return PlainTextResponse("try again", status_code=503, headers={"Retry-After": "10"})


async def note_whatsapp_inbound(request: Request, phone: str, at: datetime) -> None:
    """`phone` wrote on WhatsApp at `at`: its 24-hour window is open again
    (`gateway.state.whatsapp`). A store that fails costs a template later, never the turn."""
    state = runtime(request)
    try:
        await WhatsAppWindow(state.redis, state.sessions.keys).touch(phone, at)
    except StoreError as exc:
        log.warning("whatsapp_window_not_noted", error=type(exc).__name__)
