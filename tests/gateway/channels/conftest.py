"""Shared by the channel-adapter tests: fixtures from `tests/fixtures/`, backend call counts,
and the language a screen is written in."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

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


@pytest.fixture
def spare_guardian_phone(sandbox_database: str) -> str:
    """A seeded (non-demo) guardian phone with children, that no other test uses.

    Tests that lock a phone out use it: the sandbox keeps lockouts in its database, which
    lives for the whole session, under a clock that does not move.
    """
    engine = sa.create_engine(sandbox_database)
    try:
        with engine.connect() as conn:
            phone = conn.execute(
                sa.text(
                    "select p.e164 from guardian_phone p"
                    " join guardian_student gs on gs.guardian_id = p.guardian_id"
                    " where p.e164 not like '+2126000000%'"
                    " order by p.id desc limit 1"
                )
            ).scalar_one()
    finally:
        engine.dispose()
    return str(phone)
