"""Alembic migrations of the gateway's schema: an empty database and one made before
migrations (by `metadata.create_all` at each start) both reach the newest revision, the
migrated schema is exactly `gateway.state.schema.metadata`, and the app refuses a database that is
not migrated. On SQLite (a temporary file) always, on PostgreSQL (a throwaway database) when
it answers."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from fastapi.testclient import TestClient

from gateway.app import create_app
from gateway.settings import Settings
from gateway.state.connections import open_database
from gateway.state.migrate import (
    MIGRATION_LOCK_KEY,
    SchemaOutdated,
    alembic_config,
    current_revision,
    ensure_at_head,
    head_revision,
    upgrade,
)
from gateway.state.schema import UtcDateTime, metadata
from tests.databases import empty_database

pytestmark = pytest.mark.postgres

TABLES = {"alembic_version", *metadata.tables}  # every table of gateway/schema.py
PREVIOUS_RELEASE = "0002"  # the outbox's revision, the head before alerts and Telegram links
WAIT_S = 30.0


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_url: str | None
) -> Iterator[str]:
    """The URL of an empty database of this test's own."""
    with empty_database(request.param, tmp_path, postgres_url) as url:
        yield url


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    engine = open_database(database_url)
    yield engine
    engine.dispose()


def tables(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def create_tables_as_before_migrations(engine: sa.Engine, *, outbox: bool) -> None:
    """What the gateway's start-up made before migrations: `metadata.create_all` of the
    bindings table alone, or (the code since the outbox's table) of gateway/schema.py."""
    if outbox:  # the tables gateway/schema.py had then; later ones came with migrations
        then = ("phone_binding", "outbound_message")
        metadata.create_all(engine, tables=[metadata.tables[name] for name in then])
        return
    old = sa.MetaData()
    sa.Table(
        "phone_binding",
        old,
        sa.Column("phone_h", sa.Text, primary_key=True),
        sa.Column("student_id", sa.Text, primary_key=True),
        sa.Column("bound_at", UtcDateTime, nullable=False),
    )
    old.create_all(engine)


def upgrades_run(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("Running upgrade")]


def test_upgrade_brings_an_empty_database_to_head(database_url: str) -> None:
    upgrade(database_url)  # on SQLite, creates the file's folder too
    engine = open_database(database_url)
    try:
        assert current_revision(engine) == head_revision()
        assert tables(engine) == TABLES
    finally:
        engine.dispose()


@pytest.mark.parametrize("outbox", [False, True], ids=["bindings-only", "every-table"])
def test_upgrade_keeps_a_database_made_before_migrations(
    database_url: str, engine: sa.Engine, outbox: bool, caplog: pytest.LogCaptureFixture
) -> None:
    create_tables_as_before_migrations(engine, outbox=outbox)
    bound_at = datetime(2026, 9, 8, 9, 30, tzinfo=UTC)
    row = {"phone_h": "a" * 64, "student_id": "stu_1", "bound_at": bound_at}
    with engine.begin() as conn:
        conn.execute(sa.insert(metadata.tables["phone_binding"]).values(**row))
    caplog.set_level(logging.INFO, logger="alembic")

    upgrade(database_url)
    assert upgrades_run(caplog)  # 0001 and 0002 were run, each keeping what it found
    assert current_revision(engine) == head_revision()
    assert tables(engine) == TABLES
    with engine.connect() as conn:
        rows = conn.execute(sa.select(metadata.tables["phone_binding"])).mappings().all()
    assert [dict(r) for r in rows] == [{**row, "key_gen": 1}]  # under the first identity key

    caplog.clear()
    upgrade(database_url)
    assert upgrades_run(caplog) == []
    assert current_revision(engine) == head_revision()


@pytest.mark.parametrize("before", ["empty", "bindings-only"])
def test_migrated_schema_is_exactly_the_models(
    database_url: str, engine: sa.Engine, before: str
) -> None:
    if before == "bindings-only":
        create_tables_as_before_migrations(engine, outbox=False)
    upgrade(database_url)
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        assert compare_metadata(context, metadata) == []


def test_upgrade_keeps_the_previous_release_database_and_adds_the_new_tables(
    database_url: str, engine: sa.Engine
) -> None:
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), PREVIOUS_RELEASE)
    at = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    message = {
        "id": "a" * 32,
        "idem_h": "b" * 32,
        "channel": "sms",
        "to_h": "c" * 64,
        "to_masked": "+212*******01",
        "kind": "reply",
        "priority": 0,
        "status": "sent",
        "status_rank": 1,
        "attempts": 1,
        "created_at": at,
        "updated_at": at,
    }
    with engine.begin() as conn:
        conn.execute(sa.insert(metadata.tables["outbound_message"]).values(**message))
    upgrade(database_url)
    assert current_revision(engine) == head_revision()
    assert tables(engine) == TABLES
    with engine.connect() as conn:
        kept = conn.execute(sa.select(metadata.tables["outbound_message"])).mappings().one()
    assert {k: kept[k] for k in message} == message
    with engine.begin() as conn:  # the new tables take rows
        conn.execute(
            sa.insert(metadata.tables["alert_preference"]).values(
                phone_h="d" * 64, opted_out=True, digest=False, updated_at=at
            )
        )
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), PREVIOUS_RELEASE)
    assert tables(engine) == {"alembic_version", "phone_binding", "outbound_message"}


def test_ensure_at_head_refuses_a_database_until_it_is_upgraded(
    database_url: str, engine: sa.Engine
) -> None:
    with pytest.raises(SchemaOutdated, match="run `python -m gateway migrate`") as empty:
        ensure_at_head(engine)
    assert (empty.value.current, empty.value.head) == (None, head_revision())
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0001")
    with pytest.raises(SchemaOutdated, match="at revision 0001") as behind:
        ensure_at_head(engine)
    assert behind.value.current == "0001"
    upgrade(database_url)
    ensure_at_head(engine)


def test_the_app_refuses_to_start_on_an_unmigrated_database(
    database_url: str, engine: sa.Engine, redis_url: str | None
) -> None:
    settings = Settings(
        env="test",  # type: ignore[arg-type]
        redis_url=redis_url,
        database_url=database_url,
        log_level="WARNING",
    )
    app = create_app(settings, backend_transport=httpx.MockTransport(lambda _: httpx.Response(200)))
    with pytest.raises(SchemaOutdated, match="run `python -m gateway migrate`"), TestClient(app):
        pass
    assert tables(engine) == set()  # the worker created nothing


def test_every_revision_downgrades_and_upgrades_again(database_url: str, engine: sa.Engine) -> None:
    upgrade(database_url)
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0001")
    assert current_revision(engine) == "0001"
    assert tables(engine) == {"alembic_version", "phone_binding"}
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "base")
    assert current_revision(engine) is None
    assert tables(engine) == {"alembic_version"}
    upgrade(database_url)
    assert current_revision(engine) == head_revision()


def test_a_second_upgrade_waits_for_the_first_on_postgresql(
    database_url: str, engine: sa.Engine
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("advisory locks are PostgreSQL's")
    failures: list[BaseException] = []

    def second() -> None:
        try:
            upgrade(database_url)
        except BaseException as exc:  # reported by the test below
            failures.append(exc)

    waiting = sa.text("""
        SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objid = :low
    """)
    with engine.connect() as first:
        first.begin()
        command.upgrade(alembic_config(first), "head")  # migrated, not committed yet
        thread = threading.Thread(target=second)
        thread.start()
        with engine.connect() as probe:
            deadline = time.monotonic() + WAIT_S
            low = MIGRATION_LOCK_KEY & 0xFFFFFFFF  # pg_locks shows a bigint key in two halves
            while probe.execute(waiting, {"low": low}).scalar_one() == 0:
                assert thread.is_alive(), failures
                assert time.monotonic() < deadline, "the second upgrade never waited"
                time.sleep(0.05)
        first.commit()
    thread.join(WAIT_S)
    assert not thread.is_alive()
    assert failures == []
    assert current_revision(engine) == head_revision()


def test_the_alerts_rhythm_revision_keeps_what_phones_chose_and_what_is_held(
    database_url: str, engine: sa.Engine
) -> None:
    """0009 adds `alert_preference.rhythm` and `alert_held.batch`: a daily digest chosen
    before reads as "daily", a held alert as one of quiet hours; a weekly choice is stored;
    a downgrade drops the columns and keeps the rows."""
    import anyio

    from gateway.state.alerts.preferences import SqlPreferences
    from gateway.state.alerts.store import AlertStore
    from gateway.state.schema import address_h

    key, phone, at = b"migration-key", "+212600000001", datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "whatsapp_templates")
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO alert_preference (phone_h, opted_out, digest, updated_at)"
                " VALUES (:h, :no, :yes, :at)"
            ),
            {"h": address_h(key, phone), "no": False, "yes": True, "at": at},
        )
        conn.execute(
            sa.text(
                "INSERT INTO alert_held (event_id, seq, guardian_id, phone_h, student_id, kind,"
                " payload, release_at, created_at)"
                " VALUES ('evt_000000001', 1, 'gdn_1', :h, 'stu_1', 'absence', '{}', :at, :at)"
            ),
            {"h": address_h(key, phone), "at": at},
        )
    upgrade(database_url)
    prefs = SqlPreferences(engine, key_secret=key)
    assert anyio.run(prefs.for_phones, [phone])[phone].rhythm == "daily"
    (held,) = anyio.run(AlertStore(engine, key_secret=key).due, at)
    assert held.batch is None
    chosen = anyio.run(partial(prefs.choose_alerts, phone, rhythm="weekly"))
    assert chosen.rhythm == "weekly"
    assert anyio.run(prefs.for_phones, [phone])[phone].weekly
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "whatsapp_templates")
    columns = {c["name"] for c in sa.inspect(engine).get_columns("alert_preference")}
    assert "rhythm" not in columns
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM alert_preference")).scalar_one() == 1
        assert conn.execute(sa.text("SELECT count(*) FROM alert_held")).scalar_one() == 1


def test_whatsapp_templates_revision_keeps_records_and_preferences(
    database_url: str, engine: sa.Engine
) -> None:
    """0008 (issue #26): `outbound_message.template` and `alert_preference.detail` are added
    empty to the rows there were (no template; minimal detail), and go on a downgrade."""
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "console_need_to_know")
    at = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    message = {
        "id": "a" * 32,
        "idem_h": "b" * 32,
        "channel": "whatsapp",
        "to_h": "c" * 64,
        "to_masked": "+212*******01",
        "kind": "alert",
        "priority": 2,
        "status": "sent",
        "status_rank": 1,
        "attempts": 1,
        "created_at": at,
        "updated_at": at,
    }
    preference = {"phone_h": "d" * 64, "opted_out": False, "digest": False, "updated_at": at}
    with engine.begin() as conn:  # the tables as that revision made them (no new column)
        for table, row in (("outbound_message", message), ("alert_preference", preference)):
            conn.execute(sa.insert(sa.table(table, *map(sa.column, row))).values(**row))
    upgrade(database_url)
    assert current_revision(engine) == head_revision()
    with engine.connect() as conn:
        kept = conn.execute(sa.select(metadata.tables["outbound_message"])).mappings().one()
        pref = conn.execute(sa.select(metadata.tables["alert_preference"])).mappings().one()
    assert kept["template"] is None
    assert kept["channel"] == "whatsapp"
    assert pref["detail"] is None
    assert pref["phone_h"] == "d" * 64
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "console_need_to_know")
    columns = {c["name"] for c in sa.inspect(engine).get_columns("outbound_message")}
    assert "template" not in columns
    columns = {c["name"] for c in sa.inspect(engine).get_columns("alert_preference")}
    assert "detail" not in columns
