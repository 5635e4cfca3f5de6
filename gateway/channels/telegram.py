"""Telegram Bot API: updates on a webhook, replies through the outbox (CHANNELS.md §4).

    POST /channels/telegram/webhook
    X-Telegram-Bot-Api-Secret-Token: <GATEWAY_TELEGRAM_WEBHOOK_SECRET>
    {"update_id": 10001, "message": {"message_id": 7, "date": 1767000000,
      "chat": {"id": 42, "type": "private"}, "from": {"id": 42, …}, "text": "ABS"}}

The secret header is checked before the body is read as JSON (403 otherwise); PTB's
`Update.de_json` parses the update. The gateway is the only handler, so no PTB `Application`
runs: its `initialize` would call `getMe` at start-up, and the turn runner already does
what its dispatching would (one update at a time per user, answers remembered).

A chat has no phone until it shares its own contact: the first message gets a
`request_contact` button, and a contact is accepted only when `contact.user_id` is the
sender's own id (a forwarded card is refused, politely). The phone, sealed, is kept in SQL
(`gateway/telegram_links.py`); from then it is the identity exactly as on SMS (bindings,
lockout). A tapped inline button is a `callback_query` whose data is the option's id; it is
answered in the webhook's own HTTP answer (`answerCallbackQuery`), so no call leaves here.
Replies are queued under `reply:telegram:<update_id>`: a redelivered update sends nothing
twice. Stickers, photos, voice notes, locations and edited messages get one sentence saying
what the service reads. Other updates (channel posts, group chats) are acknowledged.
Docs: https://core.telegram.org/bots/api#setwebhook, https://core.telegram.org/bots/api#update
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from telegram import Message, Update

from gateway.channels.chat import (
    TELEGRAM_PROFILE,
    ChatInput,
    queue_notice,
    reply_message,
    run_and_queue,
    say,
    try_again,
    user_lang,
)
from gateway.channels.common import PayloadError, is_setting, read_json
from gateway.deps import runtime
from gateway.dialogs import texts
from gateway.dialogs.model import ChannelKind, Lang, Option
from gateway.outbox.model import OutChannel
from gateway.outbox.senders.telegram import REQUEST_CONTACT, chat_address
from gateway.phones import to_e164
from gateway.state.errors import StoreUnavailable
from gateway.state.telegram_links import TelegramLinks

log = structlog.get_logger("gateway.channels.telegram")

ROUTE = "/channels/telegram/webhook"
SECRET_HEADER = "x-telegram-bot-api-secret-token"  # noqa: S105 - a header's name
MAX_BODY_BYTES = 64 * 1024  # an update with a 4,096-character text is a few kilobytes


def reply_key(update_id: int) -> str:
    return f"reply:telegram:{update_id}"


router = APIRouter(tags=["channels"])
ERRORS: dict[int | str, dict[str, Any]] = {
    403: {"description": "Missing or wrong secret token"},
    503: {"description": "The store or the queue is unreachable; Telegram delivers again"},
}


@router.post(ROUTE, summary="Telegram Bot API update", responses=ERRORS)
async def telegram_webhook(request: Request) -> Response:
    secret = runtime(request).settings.telegram_webhook_secret
    if not is_setting(request.headers.get(SECRET_HEADER), secret):
        log.info("telegram_refused")
        return PlainTextResponse("bad secret token", status_code=403)
    body = await request.body()  # bounded before the secret is compared (`limits.BodyLimit`)
    try:
        update = Update.de_json(read_json(body), None)
    except (PayloadError, ValueError, TypeError, KeyError, AttributeError):
        return PlainTextResponse("ignored: not an update")
    try:
        return await _handle(request, update, datetime.now(UTC))
    except StoreUnavailable:
        return try_again()


async def _handle(request: Request, update: Update, now: datetime) -> Response:
    query = update.callback_query
    if query is not None:
        chat_id = query.message.chat.id if query.message is not None else query.from_user.id
        option = (query.data or "")[:64] or None
        hint = query.from_user.language_code
        failed = await _turn(request, update.update_id, chat_id, now, option_id=option, hint=hint)
        if failed is not None:
            return failed
        # Answered in the webhook's answer: the app stops its spinner, no call leaves here.
        return JSONResponse({"method": "answerCallbackQuery", "callback_query_id": query.id})
    message = update.message
    if message is None or message.chat.type != "private":
        edited = update.edited_message
        if edited is not None and edited.chat.type == "private":
            return await _unsupported(request, update.update_id, edited, now)
        return Response(status_code=200)  # nothing to answer: channel posts, groups…
    if message.contact is not None:
        return await _contact(request, update.update_id, message, now)
    if message.text is None:
        return await _unsupported(request, update.update_id, message, now)
    hint = message.from_user.language_code if message.from_user is not None else None
    failed = await _turn(
        request, update.update_id, message.chat.id, now, text=message.text, hint=hint
    )
    return failed or Response(status_code=200)


async def _turn(
    request: Request,
    update_id: int,
    chat_id: int,
    now: datetime,
    *,
    text: str = "",
    option_id: str | None = None,
    hint: str | None = None,
) -> Response | None:
    """The dialog turn of a linked chat; a chat with no phone yet is asked for it."""
    links: TelegramLinks = runtime(request).telegram_links
    phone = await links.phone(chat_id)
    if phone is None:
        return await _ask_contact(request, update_id, chat_id, now, texts.SHARE_CONTACT, hint)
    msg = ChatInput(
        message_id=f"tg:{update_id}",
        phone=phone,
        text=text,
        option_id=option_id,
        reply_to=chat_address(chat_id),
    )
    return await _run(request, update_id, chat_id, msg, now)


async def _run(
    request: Request, update_id: int, chat_id: int, msg: ChatInput, now: datetime
) -> Response | None:
    """The dialog turn of `msg`, its reply queued to the chat under the update's key."""
    to, key = chat_address(chat_id), reply_key(update_id)
    return await run_and_queue(request, profile=TELEGRAM_PROFILE, msg=msg, to=to, key=key, now=now)


async def _contact(request: Request, update_id: int, message: Message, now: datetime) -> Response:
    contact, sender = message.contact, message.from_user
    assert contact is not None  # noqa: S101 - the caller checked
    chat_id = message.chat.id
    hint = sender.language_code if sender is not None else None
    phone = to_e164(contact.phone_number)
    if sender is None or contact.user_id != sender.id or phone is None:
        log.info(
            "telegram_contact_refused", own=sender is not None and contact.user_id == sender.id
        )
        failed = await _ask_contact(request, update_id, chat_id, now, texts.OWN_CONTACT_ONLY, hint)
        return failed or Response(status_code=200)
    links: TelegramLinks = runtime(request).telegram_links
    await links.link(chat_id, phone, now)
    log.info("telegram_contact_linked")
    msg = ChatInput(message_id=f"tg:{update_id}", phone=phone, new_session=True)
    return await _run(request, update_id, chat_id, msg, now) or Response(status_code=200)


async def _ask_contact(
    request: Request,
    update_id: int,
    chat_id: int,
    now: datetime,
    message: str,
    hint: str | None,
) -> Response | None:
    lang = await user_lang(runtime(request).sessions, ChannelKind.TELEGRAM, None, hint)
    button = Option(key="", id=REQUEST_CONTACT, label=say(lang, texts.SHARE_CONTACT_BUTTON))
    notice = reply_message(
        channel=OutChannel.TELEGRAM,
        to=chat_address(chat_id),
        key=reply_key(update_id),
        text=say(lang, message),
        options=(button,),
        now=now,
    )
    return await queue_notice(request, notice)


async def _unsupported(
    request: Request, update_id: int, message: Message, now: datetime
) -> Response:
    chat_id = message.chat.id
    links: TelegramLinks = runtime(request).telegram_links
    phone = await links.phone(chat_id)
    hint = message.from_user.language_code if message.from_user is not None else None
    lang: Lang = await user_lang(runtime(request).sessions, ChannelKind.TELEGRAM, phone, hint)
    notice = reply_message(
        channel=OutChannel.TELEGRAM,
        to=chat_address(chat_id),
        key=reply_key(update_id),
        text=say(lang, texts.UNSUPPORTED_MESSAGE),
        now=now,
    )
    failed = await queue_notice(request, notice)
    return failed or Response(status_code=200)
