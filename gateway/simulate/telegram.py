"""Telegram: updates signed with the webhook's secret token; inline keyboards drawn and tapped.

The handset shares its own contact first (a `contact` whose `user_id` is the sender's), as a
user pressing the "share my number" button would. Each line typed is a text message; a
number or a `[label]` naming an inline button of the last message taps it (a
`callback_query` carrying the option's id). Answers come back through the outbox, drawn
from the reply markup the Telegram sender would send.
"""

from __future__ import annotations

import time
from itertools import count
from typing import Any

from telegram import InlineKeyboardMarkup, ReplyKeyboardMarkup

from gateway.dialogs.model import Option
from gateway.outbox.senders.telegram import chat_address, keyboard
from gateway.simulate.inbox import SentMessage, show_message
from gateway.simulate.phones import Phone, register
from gateway.simulate.whatsapp_meta import pick

TELEGRAM_ROUTE = "/channels/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header's name
_UPDATES = count(int(time.time()))


@register("telegram")
class TelegramPhone(Phone):
    replies_later = True
    screen = "chat"
    session_channel = "telegram"
    shares_contact = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A private chat's id is the user's id; one per simulated phone.
        self.chat_id = int(self.phone.removeprefix("+")[-9:]) + 700_000_000
        self.buttons: list[tuple[str, str]] = []

    @property
    def address(self) -> str:
        return chat_address(self.chat_id)

    def _user(self) -> dict[str, Any]:
        return {"id": self.chat_id, "is_bot": False, "first_name": "Simulator"}

    def _message(self, **part: Any) -> dict[str, Any]:
        chat = {"id": self.chat_id, "type": "private", "first_name": "Simulator"}
        return {
            "message_id": next(_UPDATES) % 1_000_000,
            "from": self._user(),
            "chat": chat,
            "date": int(time.time()),
            **part,
        }

    async def _post(self, update: dict[str, Any]) -> str:
        secret = self.settings.telegram_webhook_secret
        response = await self.http.post(
            TELEGRAM_ROUTE,
            json={"update_id": next(_UPDATES), **update},
            headers={SECRET_HEADER: secret.get_secret_value() if secret else ""},
        )
        return "" if response.status_code == 200 else f"[{response.status_code}] {response.text}"

    async def start(self) -> list[str]:
        contact = {"phone_number": self.phone, "first_name": "Simulator", "user_id": self.chat_id}
        answer = await self._post({"message": self._message(contact=contact)})
        return ["(contact shared: " + self.phone + ")", *([answer] if answer else [])]

    async def send(self, text: str) -> str:
        return await self._deliver(text, pick(self.buttons, text) if self.buttons else None)

    async def press(self, option: str) -> str:
        """Tap the inline button whose callback data is `option` (the web simulator's)."""
        tapped = next((b for b in self.buttons if b[0] == option), None)
        return await self._deliver(option, tapped)

    async def _deliver(self, text: str, tapped: tuple[str, str] | None) -> str:
        if tapped is None:
            return await self._post({"message": self._message(text=text)})
        query = {
            "id": str(next(_UPDATES)),
            "from": self._user(),
            "message": self._message(text="…"),
            "chat_instance": str(self.chat_id),
            "data": tapped[0],
        }
        return await self._post({"callback_query": query})

    def show(self, msg: SentMessage) -> str | None:
        if msg.status == "failed" or msg.text is None:
            return show_message(msg)
        options = tuple(Option(key=o.key or "", id=o.id, label=o.label) for o in msg.options)
        markup = keyboard(options)
        text = f"[Telegram] {msg.text}"
        self.buttons = []
        if isinstance(markup, InlineKeyboardMarkup):
            self.buttons = [
                (str(button.callback_data), button.text)
                for row in markup.inline_keyboard
                for button in row
            ]
            lines = [f"  [{n}: {label}]" for n, (_, label) in enumerate(self.buttons, 1)]
            return "\n".join([text, *lines])
        if isinstance(markup, ReplyKeyboardMarkup):
            labels = [button.text for row in markup.keyboard for button in row]
            return "\n".join([text, *(f"  [📱 {label}]" for label in labels)])
        return text
