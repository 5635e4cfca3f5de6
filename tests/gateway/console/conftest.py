"""A gateway with the console, operators made directly in its database, a signed-in client."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

from gateway.console.operators import OperatorStore
from gateway.i18n import translator

PASSWORDS = {"amina": "agent-password-1", "samir": "supervisor-password-1"}
ROLES = {"amina": "agent", "samir": "supervisor"}
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "the page has no CSRF field"
    return match.group(1)


def add_operators(client: TestClient) -> None:
    store = OperatorStore(client.app.state.db)  # type: ignore[attr-defined]
    for name, role in ROLES.items():
        store.add(name, role, PASSWORDS[name])


def sign_in(client: TestClient, name: str, password: str | None = None, lang: str = "fr"):
    form = client.get(f"/console/signin?lang={lang}")
    assert form.status_code == 200
    return client.post(
        "/console/signin",
        data={"csrf": csrf_of(form.text), "name": name, "password": password or PASSWORDS[name]},
        follow_redirects=False,
    )


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
