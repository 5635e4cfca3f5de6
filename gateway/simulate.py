"""A terminal phone: talk to the gateway's real routes as a USSD or SMS user.

    python -m gateway simulate --channel ussd --phone +212600000001
    python -m gateway simulate --channel sms --phone +212600000099 --url http://127.0.0.1:8000

Requests are signed as the provider would sign them (AT's URL token, Twilio's signature),
with the secrets from the GATEWAY_* settings. Without `--url`, an in-process gateway and
sandbox backend (seeded in a temporary folder) answer, so nothing needs to be running; their
logs go to `var/simulate-<time>.log`, named on the first line, so the terminal shows only the
conversation. The messages the gateway sends the phone (an SMS follow-up, say) appear in the
conversation as `[SMS] …`: the simulator asks `GET /admin/messages?to=<phone>` after each turn
and about once a second while it waits. Each line typed is one input; an empty line on USSD
dials again; Ctrl-D quits.
"""

from __future__ import annotations

import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import TextIO

import anyio
import httpx
import pydantic
from twilio.request_validator import RequestValidator

from gateway import logs
from gateway.dialogs.model import Option
from gateway.dialogs.pages import with_options
from gateway.settings import Settings

USSD_ROUTE = "/channels/ussd/africastalking"
SMS_ROUTE = "/channels/sms/twilio"
MESSAGES_ROUTE = "/admin/messages"
POLL_INTERVAL_S = 1.0
POLL_TIMEOUT_S = 2.0


class Phone:
    """One simulated handset: keeps the USSD session's input path or numbers SMS ids."""

    def __init__(self, http: httpx.AsyncClient, settings: Settings, channel: str, phone: str):
        self.http, self.settings, self.channel, self.phone = http, settings, channel, phone
        self.session_id: str | None = None
        self.path: list[str] = []
        self.sent = 0

    async def send(self, text: str) -> str:
        if self.channel == "ussd":
            return await self._ussd(text)
        return await self._sms(text)

    async def _ussd(self, text: str) -> str:
        if self.session_id is None or not text:
            self.session_id, self.path = f"ATUid_{uuid.uuid4().hex[:12]}", []
            if text:
                self.path.append(text)
        else:
            self.path.append(text)
        token = self.settings.at_ussd_token
        response = await self.http.post(
            USSD_ROUTE,
            params={"token": token.get_secret_value() if token else ""},
            data={
                "sessionId": self.session_id,
                "serviceCode": "*2020#",
                "phoneNumber": self.phone,
                "networkCode": "60400",
                "text": "*".join(self.path),
            },
        )
        body = (
            response.text
            if response.status_code == 200
            else f"[{response.status_code}] {response.text}"
        )
        if body.startswith("END"):
            self.session_id = None
        return body

    async def _sms(self, text: str) -> str:
        self.sent += 1
        params = {
            "MessageSid": f"SM{uuid.uuid4().hex}",
            "AccountSid": "AC" + "0" * 32,
            "From": self.phone,
            "To": "+212500000000",
            "Body": text,
            "NumMedia": "0",
        }
        token = self.settings.twilio_auth_token
        signature = RequestValidator(token.get_secret_value() if token else "").compute_signature(
            self.settings.public_url + SMS_ROUTE, params
        )
        response = await self.http.post(
            SMS_ROUTE, data=params, headers={"X-Twilio-Signature": signature}
        )
        if response.status_code != 200:
            return f"[{response.status_code}] {response.text}"
        return twiml_text(response.text)


def twiml_text(twiml: str) -> str:
    from xml.etree import ElementTree

    root = ElementTree.fromstring(twiml)  # noqa: S314 - our own gateway's answer
    return "\n---\n".join((m.text or "") for m in root.iter("Message"))


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
        self, http: httpx.AsyncClient, settings: Settings, phone: str, out: Callable[[str], None]
    ) -> None:
        self.http, self.phone, self.out = http, phone, out
        self.headers = {"Authorization": f"Bearer {settings.admin_token.get_secret_value()}"}
        self.seen: set[str] | None = None  # None: what existed at start is not known yet
        self.enabled = True
        self.noted = False

    async def start(self) -> None:
        items = await self._fetch()
        if items is not None:
            self.seen = {msg.id for msg in items}

    async def show_new(self) -> None:
        items = await self._fetch()
        if items is None:
            return
        if self.seen is None:
            # The gateway did not answer at start: its first answer stands for what existed
            # then (better miss a message than replay the phone's whole history).
            self.seen = {msg.id for msg in items}
            return
        for msg in reversed(items):  # the route answers newest first
            if msg.id in self.seen:
                continue
            self.seen.add(msg.id)
            shown = show_message(msg)
            if shown is not None:
                self.out(shown)

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


@asynccontextmanager
async def in_process_gateway(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The sandbox and the gateway in this process, wired by ASGI transports."""
    from gateway.app import create_app
    from gateway.migrate import upgrade
    from sandbox import db
    from sandbox.app import create_app as create_sandbox
    from sandbox.seed import seed_database
    from sandbox.settings import SandboxSettings

    # Before seeding, so the sandbox's lines go where the gateway's will (create_app does it
    # again, the same way).
    logs.configure(json_logs=settings.json_logs, level=settings.log_level, file=settings.log_file)
    with tempfile.TemporaryDirectory(prefix="massar-sim-") as tmp:
        sandbox_settings = SandboxSettings(database_url=f"sqlite:///{Path(tmp)}/sandbox.db")

        def seed() -> None:
            engine = db.make_engine(sandbox_settings.database_url)
            seed_database(
                engine, students=200, seed=sandbox_settings.seed, now=sandbox_settings.now
            )
            engine.dispose()

        await anyio.to_thread.run_sync(seed)
        sandbox = create_sandbox(sandbox_settings)
        gateway_database = f"sqlite:///{Path(tmp)}/gateway.db"
        await anyio.to_thread.run_sync(upgrade, gateway_database)  # as `serve` does first
        gateway = create_app(
            settings.model_copy(update={"database_url": gateway_database}),
            backend_transport=httpx.ASGITransport(app=sandbox),
        )
        async with AsyncExitStack() as stack:
            await stack.enter_async_context(sandbox.router.lifespan_context(sandbox))
            await stack.enter_async_context(gateway.router.lifespan_context(gateway))
            yield await stack.enter_async_context(
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=gateway), base_url=settings.public_url
                )
            )


def simulator_log_file(settings: Settings) -> Path:
    """Where the in-process servers log: a new file under `var/` for each run."""
    return settings.var_dir / f"simulate-{datetime.now().astimezone():%Y%m%d-%H%M%S}.log"


async def converse(
    channel: str,
    phone: str,
    *,
    url: str | None,
    settings: Settings,
    lines: TextIO = sys.stdin,
    out: Callable[[str], None] = print,
    transport: httpx.AsyncBaseTransport | None = None,
    poll_s: float = POLL_INTERVAL_S,
) -> None:
    """Talk to the gateway at `url` (through `transport`, a test's stand-in) or in-process."""
    async with AsyncExitStack() as stack:
        if url:
            http = await stack.enter_async_context(
                httpx.AsyncClient(base_url=url, timeout=10, transport=transport)
            )
        else:
            log_file = simulator_log_file(settings)
            settings = settings.model_copy(update={"log_file": log_file})
            out(f"logs: {log_file}")
            http = await stack.enter_async_context(in_process_gateway(settings))
        handset = Phone(http, settings, channel, phone)
        inbox = Inbox(http, settings, phone, out)
        await inbox.start()
        # One thing prints at a time: a message that comes during a turn waits for its screen.
        printing = anyio.Lock()

        async def turn(line: str) -> None:
            async with printing:
                if line:
                    out(f"> {line.strip()}")
                out(await handset.send(line.rstrip("\n")))
                await inbox.show_new()

        async def watch_inbox() -> None:
            while inbox.enabled:
                await anyio.sleep(poll_s)
                async with printing:
                    await inbox.show_new()

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(watch_inbox)
            if channel == "ussd":
                await turn("")  # dials
            while line := await anyio.to_thread.run_sync(lines.readline):
                await turn(line)
            tasks.cancel_scope.cancel()
