"""A real Kannel (bearerbox, smsbox, a fakesmsc per operator) started once per module on
`deploy/kannel/kannel.conf`, and the gateway served by uvicorn on the loopback port Kannel's
post-url names, with its sender worker sending through Kannel's sendsms.

Skipped, with the reason, when Kannel's binaries are missing (`apt install kannel
kannel-extras`; `make test` installs them when it runs as root on Debian).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from starlette.types import Message, Receive, Scope, Send

from gateway.app import create_app
from gateway.deps import runtime_of
from tests.databases import migrated
from tests.gateway.conftest import (  # noqa: F401 (fixtures)
    gateway_settings,
    sandbox_app,
    sandbox_database,
    seeded_sandbox_file,
)
from tests.kannel import harness

TOKEN = "test-kannel-callback-token"
SENDSMS_PASSWORD = "test-kannel-sendsms-password"
ADMIN_TOKEN = "test-admin-token-kannel"
T = TypeVar("T")


@dataclass(frozen=True)
class KannelSetup:
    kannel: harness.Kannel
    gateway_port: int

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"


@pytest.fixture(scope="module")
def kannel_setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KannelSetup]:
    """Kannel with two operator links online, IAM and INWI (ORANGE configured, unconnected)."""
    reason = harness.missing()
    if reason is not None:
        pytest.skip(f"real-Kannel tests: {reason}")
    port = harness.free_port()
    with harness.run_kannel(
        tmp_path_factory.mktemp("kannel"),
        gateway_url=f"http://127.0.0.1:{port}",
        token=TOKEN,
        sendsms_password=SENDSMS_PASSWORD,
        operators=("IAM", "INWI"),
    ) as kannel:
        yield KannelSetup(kannel, port)


class LiveApp:
    """The gateway as uvicorn serves it, keeping its event loop for the test to call into.

    With `fail_first`, the first call for each Kannel id is answered 503 after the gateway has
    handled it, as a lost answer would look to smsbox, which then calls again.
    """

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.loop: asyncio.AbstractEventLoop | None = None
        self.fail_first = False
        self.calls: Counter[str] = Counter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.loop = asyncio.get_running_loop()
        if scope["type"] != "http" or scope["path"] != "/channels/sms/kannel":
            await self.app(scope, receive, send)
            return
        kannel_id = parse_qs(scope["query_string"].decode("latin-1")).get("id", [""])[0]
        self.calls[kannel_id] += 1
        if not (self.fail_first and self.calls[kannel_id] == 1):
            await self.app(scope, receive, send)
            return

        async def lose_the_answer(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "status": 503}
            await send(message)

        await self.app(scope, receive, lose_the_answer)

    def call(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run `coro` on the server's event loop (the app's state lives there)."""
        assert self.loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=10)


@dataclass
class LiveGateway:
    live: LiveApp
    setup: KannelSetup
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=5))

    @property
    def state(self) -> Any:
        return runtime_of(self.live.app)

    def link(self, smsc_id: str = "IAM") -> harness.Fakesmsc:
        return self.setup.kannel.links[smsc_id]

    def messages(self, phone: str) -> list[dict[str, Any]]:
        """`/admin/messages` for `phone`, newest first."""
        response = self.http.get(
            f"{self.setup.gateway_url}/admin/messages",
            params={"to": phone},
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items


def wait_for(check: Callable[[], T], what: str, timeout_s: float = 20.0) -> T:
    """`check()` once it is truthy; a bound that fails, never a measure of speed."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.fixture
def live_gateway(
    kannel_setup: KannelSetup,
    tmp_path: Path,
    redis_url: str | None,
    sandbox_app: object,  # noqa: F811 - the fixture imported above
) -> Iterator[Callable[..., LiveGateway]]:
    """`live_gateway(**settings)`: the gateway on Kannel's post-url port, sending via Kannel."""
    servers: list[tuple[uvicorn.Server, threading.Thread]] = []
    gateways: list[LiveGateway] = []

    def start(**overrides: object) -> LiveGateway:
        values: dict[str, object] = {
            "public_url": kannel_setup.gateway_url,
            "admin_token": ADMIN_TOKEN,
            "kannel_callback_token": TOKEN,
            "sms_sender": "kannel",
            "kannel_sendsms_url": kannel_setup.kannel.sendsms_url,
            "kannel_sendsms_user": "massar",
            "kannel_sendsms_password": SENDSMS_PASSWORD,
            "kannel_sms_from": "2020",
            "kannel_routes": "+21270:INWI:3030",
            "embedded_sender": True,
            "outbox_rate_sms": 1000,
            "outbox_burst_sms": 1000,
            "outbox_rate_sms_links": "",  # the harness' links have no throughput either
            **overrides,
        }
        settings = migrated(gateway_settings(tmp_path, redis_url, **values))
        transport = httpx.ASGITransport(app=sandbox_app)  # type: ignore[arg-type]
        live = LiveApp(create_app(settings, backend_transport=transport))
        config = uvicorn.Config(
            live,
            host="127.0.0.1",
            port=kannel_setup.gateway_port,
            log_config=None,
            ws="none",
            lifespan="on",
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        servers.append((server, thread))
        wait_for(lambda: server.started, "the gateway to listen")
        for link in kannel_setup.kannel.links.values():
            link.clear()
        gateways.append(LiveGateway(live, kannel_setup))
        return gateways[-1]

    yield start
    for gateway in gateways:
        gateway.http.close()
    for server, thread in servers:
        server.should_exit = True
        thread.join(timeout=15)
