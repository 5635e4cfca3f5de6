"""A gateway with the console, operators made directly in its database, a signed-in client.

The supervisor `samir` signs in with a second factor: his TOTP secret is enrolled here, and
`sign_in` types the code pyotp computes, as his authenticator app would."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import httpx
import pyotp
import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

from gateway.console.operators import OperatorStore
from gateway.deps import runtime_of
from gateway.i18n import translator
from tests.conftest import REAL_REDIS, REDIS_URL
from tests.gateway.conftest import PUBLIC_URL

PASSWORDS = {"amina": "agent-password-1", "samir": "supervisor-password-1"}
ROLES = {"amina": "agent", "samir": "supervisor"}
TOTP_SECRETS = {"samir": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"}
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture(autouse=True)
def _empty_helpdesk_queue() -> None:
    """Start each test with no helpdesk item in the real test Redis.

    The queue's keys (`mg:{helpdesk}:…`) are not per deployment, so an item an earlier test or
    run left open would be closed, and its notice sent, by a later test's `expire`."""
    if not REAL_REDIS:
        return
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        keys = list(client.scan_iter(match="mg:{helpdesk}:*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "the page has no CSRF field"
    return match.group(1)


def store_of(client: TestClient) -> OperatorStore:
    state = runtime_of(client.app)
    secret = state.settings.identity_key.get_secret_value().encode()
    return OperatorStore(state.db, key_secret=secret)


def add_operators(client: TestClient) -> None:
    store = store_of(client)
    for name, role in ROLES.items():
        store.add(name, role, PASSWORDS[name], totp_secret=TOTP_SECRETS.get(name))


def totp_codes(secret: str) -> list[str]:
    """The codes an authenticator shows now, then those of the steps beside (a code is
    accepted once: a second sign-in within 30 s needs the next one)."""
    totp, now = pyotp.TOTP(secret), time.time()
    return [totp.at(now + offset * 30) for offset in (0, 1, -1)]


def second_factor(client: TestClient, name: str) -> httpx.Response:
    page = client.get("/console/signin/totp")
    assert page.status_code == 200, page.text
    for code in totp_codes(TOTP_SECRETS[name]):
        response = client.post(
            "/console/signin/totp",
            data={"csrf": csrf_of(page.text), "code": code},
            follow_redirects=False,
        )
        if response.status_code == 303:
            break
    return response


def sign_in(client: TestClient, name: str, password: str | None = None, lang: str = "fr"):
    form = client.get(f"/console/signin?lang={lang}")
    assert form.status_code == 200
    response = client.post(
        "/console/signin",
        data={"csrf": csrf_of(form.text), "name": name, "password": password or PASSWORDS[name]},
        follow_redirects=False,
    )
    if response.headers.get("location") == "/console/signin/totp":
        return second_factor(client, name)
    return response


def another(gateway: TestClient, address: str | None = None) -> TestClient:
    """A second browser (its own cookies, from `address` if given) on the same running
    gateway: it shares the first client's event loop, and so its Redis."""
    peer = (address, 4000) if address else ("testclient", 50000)
    other = TestClient(gateway.app, base_url=PUBLIC_URL, client=peer)
    other.portal = gateway.portal
    return other


def lookup(client: TestClient, phone: str) -> httpx.Response:
    """The lookup page of `phone`, posted as the console's form posts it."""
    csrf = csrf_of(client.get("/console/lookup").text)
    return client.post("/console/lookup", data={"csrf": csrf, "phone": phone})


@pytest.fixture
def console(make_gateway: Callable[..., TestClient]) -> TestClient:
    client = make_gateway()
    add_operators(client)
    client.get("/console/signin?lang=fr")  # French pages from here on (the cookie keeps it)
    return client


@pytest.fixture
def agent(console: TestClient) -> TestClient:
    assert sign_in(console, "amina").status_code == 303
    return console


@pytest.fixture
def supervisor(console: TestClient) -> TestClient:
    assert sign_in(console, "samir").status_code == 303
    return console


def said(msgid: str, lang: str = "fr", **values: object) -> str:
    """A catalog text as a console page shows it (translated, then HTML-escaped)."""
    return str(escape(translator(lang).gettext(msgid, **values)))
