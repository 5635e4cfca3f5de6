"""The SQL schema's Alembic migrations (`gateway/migrations/`), configured in code.

`upgrade` runs once per deployment, before any worker starts: `python -m gateway migrate`, or
`python -m gateway serve` in its parent process before uvicorn starts its workers. A worker
only checks, with `ensure_at_head`, and never creates a table: workers that each created the
tables raced one another on a fresh database ("table phone_binding already exists").

The gateway upgrades from one process only. Two `upgrade`s at once (an operator's `migrate`
while `serve` starts) are still safe enough: on PostgreSQL env.py holds an advisory lock for
the transaction, taken before the current revision is read; on SQLite the migration runs in
one `BEGIN IMMEDIATE` transaction. Either way the second waits, then finds nothing to do.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError

from gateway.state.connections import open_database
from gateway.state.errors import StoreError

__all__ = [
    "MIGRATE_COMMAND",
    "MIGRATIONS",
    "MIGRATION_LOCK_KEY",
    "MigrationFailed",
    "SchemaOutdated",
    "alembic_config",
    "current_revision",
    "ensure_at_head",
    "head_revision",
    "upgrade",
]

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"
MIGRATE_COMMAND = "python -m gateway migrate"
# The PostgreSQL advisory lock env.py holds while it migrates (one per database).
MIGRATION_LOCK_KEY = int.from_bytes(
    hashlib.sha256(b"massar-gateway:migrations").digest()[:8], "big", signed=True
)


class SchemaOutdated(Exception):
    """The database is not at the revision this release's code reads and writes."""

    def __init__(self, current: str | None, head: str) -> None:
        super().__init__(current, head)
        self.current = current  # None: no migration ever ran on it
        self.head = head

    def __str__(self) -> str:
        found = f"revision {self.current}" if self.current else "no revision"
        return (
            f"the database schema is at {found}, this release needs revision {self.head}: "
            f"run `{MIGRATE_COMMAND}` before starting the gateway"
        )


class MigrationFailed(StoreError):
    """`upgrade` could not bring the database to the newest revision; the message is the
    first line of why, from the driver when it spoke (no SQL, no URL)."""


def _reason(exc: BaseException) -> str:
    cause: BaseException = exc
    if isinstance(exc, sa.exc.DBAPIError) and exc.orig is not None:
        cause = exc.orig
    lines = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {lines[0]}" if lines else type(cause).__name__


def alembic_config(connection: sa.Connection | None = None) -> Config:
    """Alembic's configuration for `gateway/migrations/`; commands migrate `connection`."""
    config = Config()
    # The option goes through configparser, which reads `%` as interpolation.
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(database_url: str) -> None:
    """Bring the database at `database_url` to the newest revision.

    A SQLite file's folder is created when missing, as `open_database` does. Raises
    `MigrationFailed` (from the database's, Alembic's or the file system's error).
    """
    try:
        engine = open_database(database_url)
        if engine.dialect.name == "sqlite":
            _begin_immediate(engine)
        try:
            with engine.begin() as connection:
                command.upgrade(alembic_config(connection), "head")
        finally:
            engine.dispose()
    except (sa.exc.SQLAlchemyError, CommandError, OSError, ImportError) as exc:
        raise MigrationFailed(_reason(exc)) from exc


def current_revision(engine: sa.Engine) -> str | None:
    """The revision the database is at; None when no migration ever ran on it."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    """The newest revision of `gateway/migrations/versions/`."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no revision in {MIGRATIONS / 'versions'}")
    return head


def ensure_at_head(engine: sa.Engine) -> None:
    """Raise `SchemaOutdated` unless the database is at the newest revision."""
    current, head = current_revision(engine), head_revision()
    if current != head:
        raise SchemaOutdated(current, head)


def _begin_immediate(engine: sa.Engine) -> None:
    """Run each transaction of `engine` as SQLite's `BEGIN IMMEDIATE`.

    pysqlite would commit before each CREATE TABLE (no transactional DDL) and a plain BEGIN
    takes no lock until the first write: two upgrades could both read "no revision".
    SQLAlchemy's documented recipe: let pysqlite emit nothing, emit our own BEGIN.
    """

    @sa.event.listens_for(engine, "connect")
    def _no_implicit_begin(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @sa.event.listens_for(engine, "begin")
    def _begin(connection: sa.Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
