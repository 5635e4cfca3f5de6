"""Shared by the channel-adapter tests: fixtures from `tests/fixtures/`, backend call counts,
the language a screen is written in, spare guardians, and a backend that holds one call."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import anyio.to_thread
import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from gateway.app import create_app
from tests.databases import migrated
from tests.gateway.conftest import PUBLIC_URL, gateway_settings

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
SANDBOX_ADMIN = {"Authorization": "Bearer sandbox-admin"}

_ARABIC_LETTER = re.compile("[\u0621-\u064a]")
_LATIN_LETTER = re.compile("[A-Za-zÀ-ÿ]")
# The option that switches language is written in the *other* language on purpose.
_LANGUAGE_SWITCH = re.compile(r"^\d\. (Français|العربية)$")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def fixture(provider: str, name: str) -> dict[str, str]:
    """One recorded form (`tests/fixtures/<provider>/<name>.json`) as field -> value."""
    data = json.loads((FIXTURES / provider / f"{name}.json").read_text(encoding="utf-8"))
    assert all(isinstance(v, str) for v in data.values()), name
    return dict(data)


def lang_of(screen: str) -> str:
    """'ar' or 'fr': the script most letters of `screen` are in (the switch option aside)."""
    lines = [line for line in screen.splitlines() if not _LANGUAGE_SWITCH.match(line)]
    text = "\n".join(lines)
    arabic, latin = len(_ARABIC_LETTER.findall(text)), len(_LATIN_LETTER.findall(text))
    assert arabic or latin, screen
    return "ar" if arabic > latin else "fr"


@pytest.fixture
def backend_calls(sandbox_app: object) -> Callable[[], dict[str, dict[str, int]]]:
    """Reads the sandbox's count of API calls per route (`GET /_sandbox/stats`)."""

    def calls() -> dict[str, dict[str, int]]:
        response = TestClient(sandbox_app).get("/_sandbox/stats", headers=SANDBOX_ADMIN)  # type: ignore[arg-type]
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["total"] == sum(sum(s.values()) for s in body["routes"].values())
        routes: dict[str, dict[str, int]] = body["routes"]
        return routes

    return calls


def total(calls: dict[str, dict[str, int]]) -> int:
    return sum(sum(by_status.values()) for by_status in calls.values())


@dataclass(frozen=True)
class SpareGuardian:
    phone: str
    massar_code: str
    birth_date: str  # DDMMYYYY, as typed at the prompt


def wrong_date(spare: SpareGuardian) -> str:
    """A birth date (DDMMYYYY) that is not the spare's child's."""
    return "01012015" if spare.birth_date != "01012015" else "02012015"


@pytest.fixture
def spare_guardians(sandbox_database: str) -> list[SpareGuardian]:
    """Seeded (non-demo) guardian phones with one child each, that no other test uses.

    Tests that fail verifications use them: the sandbox keeps its lockout counters in the
    database, which lives for the whole session, under a clock that does not move; a demo
    phone locked here would break every later test that binds a child with it.
    """
    engine = sa.create_engine(sandbox_database)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "select p.e164, s.massar_code, s.birth_date from guardian_phone p"
                    " join guardian_student gs on gs.guardian_id = p.guardian_id"
                    " join student s on s.id = gs.student_id"
                    " where p.e164 not like '+2126000000%' and p.e164 not like '+2127000000%'"
                    " and s.status = 'active'"
                    " order by p.id desc limit 20"
                )
            ).all()
    finally:
        engine.dispose()
    spare: dict[str, SpareGuardian] = {}
    for phone, code, born in rows:
        year, month, day = born.split("-")
        spare.setdefault(phone, SpareGuardian(phone, code, f"{day}{month}{year}"))
    assert len(spare) >= 4, rows
    return list(spare.values())


class HeldBackend(httpx.AsyncBaseTransport):
    """The sandbox over ASGI, except that the first call to `path` waits for `release`.

    Lets a test send a provider's retry while the first request is still being answered,
    which is when providers retry (Twilio after its timeout, AT when we are slow).
    """

    def __init__(self, inner: httpx.AsyncBaseTransport, path: str) -> None:
        self.inner, self.path = inner, path
        self.entered, self.release = threading.Event(), threading.Event()
        self.calls = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith(self.path):
            self.calls += 1
            if self.calls == 1:
                self.entered.set()
                await anyio.to_thread.run_sync(self.release.wait)
        return await self.inner.handle_async_request(request)


@pytest.fixture
def held_gateway(
    tmp_path: Path, redis_url: str | None, sandbox_app: object
) -> Iterator[Callable[[str], tuple[TestClient, HeldBackend]]]:
    """`held_gateway(path)`: a gateway whose first backend call to `path` waits."""
    clients: list[TestClient] = []

    def make(path: str) -> tuple[TestClient, HeldBackend]:
        held = HeldBackend(httpx.ASGITransport(app=sandbox_app), path)  # type: ignore[arg-type]
        settings = migrated(gateway_settings(tmp_path, redis_url))
        app = create_app(settings, backend_transport=held)
        client = TestClient(app, base_url=PUBLIC_URL)
        client.__enter__()
        clients.append(client)
        return client, held

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def send_twice_while_the_first_waits(
    held: HeldBackend, send: Callable[[], httpx.Response]
) -> tuple[httpx.Response, httpx.Response]:
    """Send, and send again once the first request is held at the backend; then let it go.

    The short pause only orders the two requests (the second must be waiting for the user's
    lock when the first goes on); if it were too short the test could pass, never fail.
    """
    answers: dict[str, httpx.Response] = {}

    def run(name: str) -> None:
        answers[name] = send()

    first = threading.Thread(target=run, args=("first",))
    first.start()
    assert held.entered.wait(10), "the first request never reached the backend"
    second = threading.Thread(target=run, args=("second",))
    second.start()
    time.sleep(0.3)
    held.release.set()
    first.join(10)
    second.join(10)
    return answers["first"], answers["second"]
