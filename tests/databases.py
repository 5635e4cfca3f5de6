"""Gateway databases as `python -m gateway migrate` leaves them, for tests that build the app.

A worker only checks the schema revision (`ensure_at_head`) and refuses an unmigrated
database, so every test that starts the app on a fresh database migrates it first, the way
`serve` does in its parent process.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from gateway.settings import Settings
from gateway.state.migrate import upgrade


def migrated(settings: Settings) -> Settings:
    """`settings`, once its database is at the newest revision."""
    upgrade(settings.database_url)
    return settings


@contextmanager
def empty_database(kind: str, tmp_path: Path, postgres_url: str | None) -> Iterator[str]:
    """The URL of an empty database of the caller's own: a SQLite file (in a folder that does
    not exist yet) or a throw-away PostgreSQL database, dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path}/var/gateway.db"
        return
    if postgres_url is None:
        pytest.skip("PostgreSQL does not answer on 127.0.0.1:5432 (TEST_POSTGRES_URL)")
    name = f"mg_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    try:
        yield sa.make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()
