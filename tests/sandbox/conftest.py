"""Sandbox fixtures: one small seeded SQLite database per session, copied for mutating tests."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from sandbox import db
from sandbox.app import create_app
from sandbox.seed import seed_database
from sandbox.settings import DEFAULT_NOW, SandboxSettings

N_STUDENTS = 200
SEED = 4242
API = {"Authorization": "Bearer sandbox-token"}
ADMIN = {"Authorization": "Bearer sandbox-admin"}


def seed_file(path: Path, students: int = N_STUDENTS, seed: int = SEED) -> str:
    url = f"sqlite:///{path}"
    engine = db.make_engine(url)
    seed_database(engine, students=students, seed=seed, now=DEFAULT_NOW)
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def seeded_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sandbox") / "sandbox.db"
    seed_file(path)
    return path


@pytest.fixture
def db_url(seeded_path: Path, tmp_path: Path) -> str:
    """A private copy of the session database (tests may mutate it)."""
    target = tmp_path / "sandbox.db"
    shutil.copy(seeded_path, target)
    return f"sqlite:///{target}"


@pytest.fixture
def settings(db_url: str) -> SandboxSettings:
    return SandboxSettings(database_url=db_url, env="test", test_headers=True, seed=SEED)


@pytest.fixture
def client(settings: SandboxSettings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as c:
        yield c


def lookup(client: TestClient, phone: str = "+212600000001") -> dict:
    r = client.post("/api/v1/guardians/lookup", json={"phone": phone}, headers=API)
    assert r.status_code == 200, r.text
    return r.json()


def demo_ids(client: TestClient) -> tuple[str, dict[str, str]]:
    """(guardian id of +212600000001, {massar suffix '001'/'002': student id})."""
    body = lookup(client)
    return body["guardian"]["id"], {s["massar_code_masked"][-3:]: s["id"] for s in body["students"]}


def on_behalf(gid: str) -> dict[str, str]:
    return {**API, "X-On-Behalf-Of": gid}


def assert_problem(response, status: int, code: str) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code
    assert body["status"] == status
    assert body["type"] == "https://massar-gateway.dev/problems/" + code
    assert {"title", "detail", "instance", "request_id"} <= body.keys()
    return body
