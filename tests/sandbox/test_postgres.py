"""The PostgreSQL path: seed with COPY into a private schema, then one read through the API."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from sandbox import db
from sandbox.app import create_app
from sandbox.seed import seed_database
from sandbox.settings import DEFAULT_NOW, SandboxSettings
from tests.sandbox.conftest import demo_ids, on_behalf

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_schema(postgres_url: str | None) -> Iterator[tuple[str, str]]:
    if postgres_url is None:
        pytest.skip(
            "PostgreSQL does not answer at 127.0.0.1:5432; the SQLite path is tested instead"
        )
    schema = f"sandbox_test_{os.getpid()}"
    yield postgres_url, schema
    engine = sa.create_engine(postgres_url)
    with engine.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    engine.dispose()


def test_postgres_seed_and_grades_read(pg_schema: tuple[str, str]) -> None:
    url, schema = pg_schema
    engine = db.make_engine(url, schema=schema)
    counts = seed_database(engine, students=60, seed=5, now=DEFAULT_NOW, schema=schema)
    assert counts["student"] == 63
    assert db.is_seeded(engine)
    engine.dispose()
    settings = SandboxSettings(database_url=url, db_schema=schema, env="test")
    with TestClient(create_app(settings)) as client:
        gid, kids = demo_ids(client)
        r = client.get(f"/api/v1/students/{kids['002']}/grades", headers=on_behalf(gid))
        assert r.status_code == 200, r.text
        assert r.json()["subjects"]
        client.post(
            "/_sandbox/absences",
            json={"massar_code": "Z990000002", "date": "2026-05-20"},
            headers={"Authorization": "Bearer sandbox-admin"},
        )
        feed = client.get(
            "/api/v1/changes",
            params={"types": "absence.created", "limit": 200},
            headers={"Authorization": "Bearer sandbox-token"},
        ).json()
        assert feed["items"][-1]["student_id"] == kids["002"]
