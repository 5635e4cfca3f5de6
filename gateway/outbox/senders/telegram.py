"""Telegram Bot API, outbound: one `sendMessage` per `send`, through PTB's `Bot` (CHANNELS.md §4).

```
POST {GATEWAY_TELEGRAM_API_URL}<token>/sendMessage
chat_id=42&text=…&parse_mode=HTML&reply_markup={"inline_keyboard": [[{"text": "Absences",
  "callback_data": "abs"}], …]}
200 {"ok": true, "result": {"message_id": 7, …}}      -> Receipt("tg:42:7")
403 {"ok": false, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}
                                          -> SendError("telegram:forbidden"), never retried;
                                             the phone the chat proved gets no more alerts
429 {"ok": false, …, "parameters": {"retry_after": 5}} -> retried after 5 s
```
Options become an inline keyboard, one button a row, `callback_data` the option's id (ids,
never labels: 64 bytes at most, and Arabic takes two a letter). The one exception is
`REQUEST_CONTACT`, a reply-keyboard button that shares the user's own contact. The text is
HTML-escaped for the parse mode used. PTB's `Bot` builds each call; it goes out through
`HttpxRequest`, our implementation of PTB's `BaseRequest` over the app's shared
`httpx.AsyncClient`, so every call has an explicit timeout, tests give it an
`httpx.MockTransport`, and no call is made at start-up (`Bot.initialize`, which calls
`getMe`, is never needed to send). Pace: the channel's bucket (about 30/s overall) in the
worker, and one bucket per chat here (about 1/s), both shared by every worker through Redis.
Docs: https://core.telegram.org/bots/api#sendmessage, https://core.telegram.org/bots/faq
"""

from __future__ import annotations

import html
import json
import warnings
from datetime import timedelta
from typing import Final

import anyio
import httpx
import structlog
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, InvalidToken, RetryAfter, TelegramError, TimedOut
from telegram.request import BaseRequest, RequestData

from gateway.dialogs.model import Option
from gateway.outbox.model import OutMessage, Receipt, SendError
from gateway.outbox.queue import Outbox
from gateway.outbox.senders.base import require
from gateway.state.outbox.bucket import ChatBuckets

__all__ = ["REQUEST_CONTACT", "HttpxRequest", "TelegramSender", "chat_address", "keyboard"]

log = structlog.get_logger("gateway.outbox.telegram")

REQUEST_CONTACT: Final = "share_contact"
"""The id of an option drawn as Telegram's `request_contact` button (a reply keyboard)."""

PREFIX: Final = "telegram:"
TIMEOUT: Final = httpx.Timeout(connect=3.0, read=10.0, write=5.0, pool=5.0)
MAX_TEXT: Final = 4096
MAX_CALLBACK_BYTES: Final = 64


def chat_address(chat_id: int) -> str:
    """A chat as the outbox addresses it: `telegram:<chat_id>`."""
    return f"{PREFIX}{chat_id}"


class HttpxRequest(BaseRequest):
    """PTB's request interface over a shared `httpx.AsyncClient` (closed by its owner)."""

    def __init__(self, http: httpx.AsyncClient, timeout: httpx.Timeout = TIMEOUT) -> None:
        self._http = http
        self._timeout = timeout

    @property
    def read_timeout(self) -> float | None:
        return self._timeout.read

    async def initialize(self) -> None:
        """Nothing to open: the client is the caller's."""

    async def shutdown(self) -> None:
        """Nothing to close: the client is the caller's."""

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = None,
        write_timeout: object = None,
        connect_timeout: object = None,
        pool_timeout: object = None,
    ) -> tuple[int, bytes]:
        if request_data is not None and request_data.contains_files:
            raise ValueError("the gateway sends no files")
        data = request_data.json_parameters if request_data is not None else None
        try:
            response = await self._http.request(method, url, data=data, timeout=self._timeout)
        except httpx.TimeoutException as exc:
            raise TimedOut(type(exc).__name__) from exc
        return response.status_code, response.content


def keyboard(options: tuple[Option, ...]) -> InlineKeyboardMarkup | ReplyKeyboardMarkup | None:
    """The reply markup of a message's options (see the module's docstring)."""
    contact = next((o for o in options if o.id == REQUEST_CONTACT), None)
    if contact is not None:
        button = KeyboardButton(contact.label, request_contact=True)
        return ReplyKeyboardMarkup([[button]], one_time_keyboard=True, resize_keyboard=True)
    rows = [
        [InlineKeyboardButton(o.label, callback_data=o.id)]
        for o in options
        if 0 < len(o.id.encode()) <= MAX_CALLBACK_BYTES
    ]
    return InlineKeyboardMarkup(rows) if rows else None


def retry_after_s(exc: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB warns that the int will become a timedelta
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class TelegramSender:
    """Sends chat messages through the Bot API; a `Sender` (gateway/outbox/senders/base.py)."""

    name = "telegram"

    def __init__(
        self,
        *,
        token: str,
        base_url: str,
        http: httpx.AsyncClient,
        outbox: Outbox,
        chats: ChatBuckets,
    ) -> None:
        require(token=token, base_url=base_url)
        request = HttpxRequest(http)
        self._bot = Bot(token, base_url=base_url, request=request, get_updates_request=request)
        self._outbox, self._chats = outbox, chats

    def __repr__(self) -> str:
        return "TelegramSender()"  # never the token

    async def send(self, msg: OutMessage) -> Receipt:
        address = msg.to.removeprefix(PREFIX)
        if not msg.to.startswith(PREFIX) or not address.lstrip("-").isdigit():
            raise SendError("telegram:bad_address", retryable=False)
        chat_id = int(address)
        await self._pace(chat_id)
        try:
            sent = await self._bot.send_message(
                chat_id,
                html.escape(msg.text[:MAX_TEXT], quote=False),
                parse_mode=ParseMode.HTML,
                reply_markup=keyboard(msg.options),
            )
        except RetryAfter as exc:
            raise self._failed(
                msg, SendError("telegram:429", retryable=True, retry_after_s=retry_after_s(exc))
            ) from None
        except Forbidden:
            # Blocked by the user, or a chat the bot may not write to: permanent, never looped.
            raise self._failed(
                msg, SendError("telegram:forbidden", retryable=False, opted_out=True)
            ) from None
        except (BadRequest, InvalidToken):
            raise self._failed(msg, SendError("telegram:bad_request", retryable=False)) from None
        except TelegramError:  # TimedOut, NetworkError, a 5xx: tried again later
            raise self._failed(msg, SendError("telegram:network", retryable=True)) from None
        except json.JSONDecodeError:
            raise self._failed(msg, SendError("bad_response", retryable=False)) from None
        return Receipt(provider_id=f"tg:{chat_id}:{sent.message_id}"[:64])

    async def _pace(self, chat_id: int) -> None:
        """About the chats' rate of messages a second into one chat, across every worker."""
        digest = self._outbox.digest(str(chat_id), label="telegram-chat\0")
        while True:
            taken, wait_ms = await self._chats.take(digest)
            if taken:
                return
            await anyio.sleep(wait_ms / 1000)

    def _failed(self, msg: OutMessage, error: SendError) -> SendError:
        log.warning("telegram_failed", outbox_id=msg.id, code=error.code, retryable=error.retryable)
        return error

    async def aclose(self) -> None:
        """Nothing to release: `http` is the caller's."""
