"""The PostgreSQL backup and restore of docs/operations.md, run as written: `pg_dump` of a
migrated database holding a binding and an opt-out, `pg_restore` into a fresh database, and
the gateway's own stores read them back there.

Both databases are throw-away ones of this test (`tests.databases.empty_database`), dropped
afterwards. Skipped, saying why, when PostgreSQL does not answer or its client tools
(Debian's `postgresql-client`) are missing.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from gateway.state.alerts.preferences import SqlPreferences
from gateway.state.bindings import SqlBindings
from gateway.state.connections import open_database
from gateway.state.migrate import (
    SchemaOutdated,
    alembic_config,
    current_revision,
    ensure_at_head,
    head_revision,
    upgrade,
)
from gateway.state.schema import address_h
from tests.databases import empty_database

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]

PHONE = "+212612345678"
STUDENT = "stu_backup_0001"
BOUND_AT = datetime(2026, 5, 20, 9, 30, tzinfo=UTC)
KEY = b"backup-restore-identity-key-of-this-test"
TOOLS_TIMEOUT_S = 120
OLDER_REVISION = "0002"  # the outbox's: a release before alerts, Telegram links and the console


def libpq_url(url: str) -> str:
    """The URL `pg_dump` and `pg_restore` read: SQLAlchemy's, without its driver name."""
    return sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (Debian: apt install postgresql-client)")
    return path


@pytest.fixture
def source(tmp_path: Path, postgres_url: str | None) -> Iterator[str]:
    with empty_database("postgresql", tmp_path, postgres_url) as url:
        yield url


@pytest.fixture
def target(tmp_path: Path, postgres_url: str | None) -> Iterator[str]:
    with empty_database("postgresql", tmp_path, postgres_url) as url:
        yield url


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def dump(url: str, out: Path, *, form: str = "custom") -> None:
    """docs/operations.md's backup line (`custom`: compressed, for pg_restore; `plain`: SQL)."""
    subprocess.run(  # noqa: S603 - pg_dump, with a URL of this test's database
        [tool("pg_dump"), f"--format={form}", "--no-owner", "--file", str(out), libpq_url(url)],
        check=True,
        capture_output=True,
        timeout=TOOLS_TIMEOUT_S,
    )


def restore(backup: Path, url: str) -> None:
    """docs/operations.md's restore line, into an empty database."""
    subprocess.run(  # noqa: S603 - pg_restore, with a URL of this test's database
        [
            tool("pg_restore"),
            "--no-owner",
            "--exit-on-error",
            "--single-transaction",
            "--dbname",
            libpq_url(url),
            str(backup),
        ],
        check=True,
        capture_output=True,
        timeout=TOOLS_TIMEOUT_S,
    )


def restore_sql(backup: Path, url: str) -> None:
    """The plain dump's restore, with psql, stopping at the first error."""
    subprocess.run(  # noqa: S603 - psql, with a URL of this test's database
        [
            tool("psql"),
            "--quiet",
            "--no-psqlrc",
            "--set",
            "ON_ERROR_STOP=1",
            "--single-transaction",
            "--file",
            str(backup),
            libpq_url(url),
        ],
        check=True,
        capture_output=True,
        timeout=TOOLS_TIMEOUT_S,
    )


async def fill(url: str) -> None:
    """A migrated database, as the gateway leaves it: one binding, one opt-out."""
    upgrade(url)
    engine = open_database(url)
    try:
        await SqlBindings(engine, key_secret=KEY).bind(PHONE, STUDENT, BOUND_AT)
        await SqlPreferences(engine, key_secret=KEY).opt_out(PHONE)
    finally:
        engine.dispose()


async def test_a_restored_dump_gives_the_gateway_its_bindings_and_opt_outs(
    source: str, target: str, tmp_path: Path
) -> None:
    await fill(source)
    backup = tmp_path / "gateway.dump"
    dump(source, backup)
    restore(backup, target)

    engine = open_database(target)
    try:
        # A worker starts on it: the schema came back at the newest revision.
        ensure_at_head(engine)
        assert current_revision(engine) == head_revision()
        bindings = SqlBindings(engine, key_secret=KEY)
        assert await bindings.bound_since(PHONE) == {STUDENT: BOUND_AT}
        assert await SqlPreferences(engine, key_secret=KEY).is_opted_out(PHONE)
        # The rows are keyed hashes: under another identity key the same dump knows no one,
        # so the key is backed up apart from the dump, and both are needed to restore.
        assert (
            await SqlBindings(engine, key_secret=b"another-identity-key").bound_since(PHONE) == {}
        )
        assert not await SqlPreferences(engine, key_secret=b"another-key").is_opted_out(PHONE)
    finally:
        engine.dispose()


async def test_a_plain_dump_holds_no_phone_number_and_restores_with_psql(
    source: str, target: str, tmp_path: Path
) -> None:
    """A backup leaves the machine (another site, a tape): it must not carry who the parents
    are. Bindings and preferences hold HMACs of the phone, never the number; read in the
    plain SQL form, where a number would show (the custom form is compressed)."""
    await fill(source)
    backup = tmp_path / "gateway.sql"
    dump(source, backup, form="plain")
    data = backup.read_bytes()
    assert STUDENT.encode() in data  # the rows are there, readable
    assert PHONE.encode() not in data
    assert PHONE.removeprefix("+").encode() not in data
    assert b"612345678" not in data  # nor its national form
    restore_sql(backup, target)
    engine = open_database(target)
    try:
        ensure_at_head(engine)
        assert await SqlBindings(engine, key_secret=KEY).bound_since(PHONE) == {STUDENT: BOUND_AT}
    finally:
        engine.dispose()


async def test_an_older_releases_dump_is_restored_then_migrated(
    source: str, target: str, tmp_path: Path
) -> None:
    """A dump taken before a release (its schema one revision behind): the workers of the new
    release refuse it, naming `migrate`, until `migrate` brings it forward with its rows."""
    engine = open_database(source)
    try:
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), OLDER_REVISION)
        # The row as that release wrote it (today's code writes columns it did not have).
        row = {"phone_h": address_h(KEY, PHONE), "student_id": STUDENT, "bound_at": BOUND_AT}
        with engine.begin() as conn:
            conn.execute(sa.insert(sa.table("phone_binding", *map(sa.column, row))), row)
    finally:
        engine.dispose()
    backup = tmp_path / "older.dump"
    dump(source, backup)
    restore(backup, target)
    engine = open_database(target)
    try:
        with pytest.raises(SchemaOutdated, match="python -m gateway migrate"):
            ensure_at_head(engine)
        upgrade(target)  # `python -m gateway migrate`
        ensure_at_head(engine)
        assert await SqlBindings(engine, key_secret=KEY).bound_since(PHONE) == {STUDENT: BOUND_AT}
    finally:
        engine.dispose()
