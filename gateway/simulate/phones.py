"""The simulated handsets, one class per channel, found by name in `PHONES`.

A channel's handset signs its requests as the provider would and turns the gateway's answer into
what the phone would show. A new channel is one module that subclasses `Phone`, decorates it with
`@register("name")`, and is imported in `gateway/simulate/__init__.py`.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx

from gateway.settings import Settings
from gateway.simulate.inbox import SentMessage, show_message

PHONES: dict[str, type[Phone]] = {}


def register(name: str) -> Callable[[type[Phone]], type[Phone]]:
    def add(cls: type[Phone]) -> type[Phone]:
        PHONES[name] = cls
        return cls

    return add


class Phone:
    """One simulated handset of a channel."""

    dials_first = False  # USSD: the conversation starts with a dial, not with a typed line
    replies_later = False  # Meta, Telegram: the answer comes through the outbox, not the request
    # What the web simulator (/console/simulator) draws for this handset: a USSD screen, an
    # SMS thread, a chat with buttons, a keypad; `session_channel` names its Redis sessions.
    screen = "thread"  # "ussd" | "thread" | "chat" | "keypad"
    session_channel = "sms"
    shares_contact = False  # Telegram: the user shares their number before anything else

    def __init__(self, http: httpx.AsyncClient, settings: Settings, phone: str) -> None:
        self.http, self.settings, self.phone = http, settings, phone

    @property
    def address(self) -> str:
        """Where the gateway's messages to this handset go (`telegram:<chat>` on Telegram)."""
        return self.phone

    async def start(self) -> list[str]:
        """What happens before the user types (a Telegram contact share, say): lines to show."""
        return []

    async def send(self, text: str) -> str:
        """Deliver one typed line to the gateway; what the phone shows in answer."""
        raise NotImplementedError

    async def press(self, option: str) -> str:
        """A button, list item or key the user pressed (`option`: its id or key); a channel
        whose provider posts presses differently from text overrides this."""
        return await self.send(option)

    def show(self, msg: SentMessage) -> str | None:
        """A message the gateway sent this phone (through the outbox), as the phone shows it."""
        return show_message(msg)
