"""What the gateway sent a phone, read back from `GET /admin/messages` (the outbox's records)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pydantic

from gateway.dialogs.model import Option
from gateway.dialogs.pages import with_options
from gateway.settings import Settings

MESSAGES_ROUTE = "/admin/messages"
POLL_TIMEOUT_S = 2.0
# A chat app's answer leaves through the outbox: how long a turn waits for it to show.
REPLY_WAIT_S = 5.0
REPLY_POLL_S = 0.1


class _SentOption(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(frozen=True)

    id: str
    label: str
    key: str | None = None  # what a keypad user types; numbered by position without it


class SentMessage(pydantic.BaseModel):
    """One message of `GET /admin/messages` (the outbox's record of what it sends)."""

    model_config = pydantic.ConfigDict(frozen=True)

    id: str
    channel: str
    text: str | None  # None once past the body retention
    options: tuple[_SentOption, ...] = ()
    status: str


class _SentPage(pydantic.BaseModel):
    items: list[SentMessage]


def show_message(msg: SentMessage) -> str | None:
    """The message as the phone shows it, `[SMS] text` and numbered options; None: nothing."""
    label = msg.channel.upper()
    if msg.status == "failed":
        # It never reached the phone, so its text is not shown as if it had; a short note still
        # says one was attempted, or a missing follow-up would look like the gateway forgot it.
        return f"[{label} not delivered]"
    if msg.text is None:
        return None  # past retention: there is nothing left to show
    options = [
        Option(key=opt.key or str(n), id=opt.id, label=opt.label)
        for n, opt in enumerate(msg.options, 1)
    ]
    return with_options(f"[{label}] {msg.text}", options)


class Inbox:
    """What the gateway sent one phone, each message printed once, oldest first.

    Messages that existed when the simulator started are not shown. A gateway without the
    route, or one that refuses our admin token, turns this off; a gateway that does not answer
    is asked again later. Either prints one short note, once, and never a traceback.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        settings: Settings,
        phone: str,
        out: Callable[[str], None],
        show: Callable[[SentMessage], str | None] | None = None,
    ) -> None:
        self.http, self.phone, self.out = http, phone, out
        self.show = show or show_message  # the phone's own drawing (buttons, lists), if it has one
        self.headers = {"Authorization": f"Bearer {settings.admin_token.get_secret_value()}"}
        self.seen: set[str] | None = None  # None: what existed at start is not known yet
        self.enabled = True
        self.noted = False

    async def start(self) -> None:
        items = await self._fetch()
        if items is not None:
            self.seen = {msg.id for msg in items}

    async def show_new(self) -> int:
        """Print the messages not shown yet; how many were printed."""
        items = await self._fetch()
        if items is None:
            return 0
        if self.seen is None:
            # The gateway did not answer at start: its first answer stands for what existed
            # then (better miss a message than replay the phone's whole history).
            self.seen = {msg.id for msg in items}
            return 0
        printed = 0
        for msg in reversed(items):  # the route answers newest first
            if msg.id in self.seen:
                continue
            self.seen.add(msg.id)
            shown = self.show(msg)
            if shown is not None:
                self.out(shown)
                printed += 1
        return printed

    async def _fetch(self) -> list[SentMessage] | None:
        if not self.enabled:
            return None
        try:
            response = await self.http.get(
                MESSAGES_ROUTE,
                params={"to": self.phone},
                headers=self.headers,
                timeout=POLL_TIMEOUT_S,
            )
        except httpx.HTTPError as exc:
            self._note(f"(messages: the gateway did not answer, {type(exc).__name__})")
            return None
        if response.status_code in (401, 403, 404, 405):
            # An older gateway without the route, or another admin token: asking again will
            # not help.
            self.enabled = False
            self._note(f"(messages not shown: {MESSAGES_ROUTE} answered {response.status_code})")
            return None
        if response.status_code != 200:
            self._note(f"(messages: {MESSAGES_ROUTE} answered {response.status_code})")
            return None
        try:
            return _SentPage.model_validate_json(response.content).items
        except pydantic.ValidationError:
            self.enabled = False
            self._note(f"(messages not shown: {MESSAGES_ROUTE} answered something unexpected)")
            return None

    def _note(self, text: str) -> None:
        if not self.noted:
            self.noted = True
            self.out(text)
