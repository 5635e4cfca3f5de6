"""A terminal phone: talk to the gateway's real routes as a USSD or SMS user.

    python -m gateway simulate --channel ussd --phone +212600000001
    python -m gateway simulate --channel sms --phone +212600000099 --url http://127.0.0.1:8000

Requests are signed as the provider would sign them (AT's URL token, Twilio's signature),
with the secrets from the GATEWAY_* settings. Without `--url`, an in-process gateway and
sandbox backend (seeded in a temporary folder) answer, so nothing needs to be running.
Each line typed is one input; an empty line on USSD dials again; Ctrl-D quits.
"""

from __future__ import annotations

import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import TextIO

import anyio
import httpx
from twilio.request_validator import RequestValidator

from gateway.settings import Settings

USSD_ROUTE = "/channels/ussd/africastalking"
SMS_ROUTE = "/channels/sms/twilio"


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


@asynccontextmanager
async def in_process_gateway(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The sandbox and the gateway in this process, wired by ASGI transports."""
    from gateway.app import create_app
    from gateway.migrate import upgrade
    from sandbox import db
    from sandbox.app import create_app as create_sandbox
    from sandbox.seed import seed_database
    from sandbox.settings import SandboxSettings

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


async def converse(
    channel: str,
    phone: str,
    *,
    url: str | None,
    settings: Settings,
    lines: TextIO = sys.stdin,
    out: Callable[[str], None] = print,
) -> None:
    async with AsyncExitStack() as stack:
        if url:
            http = await stack.enter_async_context(httpx.AsyncClient(base_url=url, timeout=10))
        else:
            http = await stack.enter_async_context(in_process_gateway(settings))
        handset = Phone(http, settings, channel, phone)
        if channel == "ussd":
            out(await handset.send(""))
        while True:
            line = await anyio.to_thread.run_sync(lines.readline)
            if not line:
                return
            out(f"> {line.strip()}")
            out(await handset.send(line.rstrip("\n")))
