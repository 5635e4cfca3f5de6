"""One name added by two processes at once (four `serve` workers making the demo's accounts as
each starts): the loser is told the name exists, and its start goes on; never a database error."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from gateway.console.operators import OperatorExists, OperatorStore
from gateway.migrate import upgrade
from gateway.state.connections import open_database
from gateway.state.schema import console_operator
from tests.databases import empty_database

WAIT_S = 10.0  # bounded: a lock that never comes fails the test, never hangs it


def test_a_name_another_process_inserts_meanwhile_is_told_it_exists(
    tmp_path: Path, postgres_url: str | None
) -> None:
    with empty_database("postgresql", tmp_path, postgres_url) as url:
        upgrade(url)
        engine = open_database(url)
        try:
            store = OperatorStore(engine, key_secret=b"operators-race")
            outcome: list[str] = []

            def add() -> None:
                try:
                    store.add("amina", "agent", "agent-password-1")
                except OperatorExists:
                    outcome.append("exists")
                except Exception as exc:  # what the start-up used to die of
                    outcome.append(type(exc).__name__)
                else:
                    outcome.append("added")

            with engine.connect() as other, engine.connect() as watch:
                moving = other.begin()  # the other process: its row inserted, not committed
                other.execute(
                    sa.insert(console_operator).values(
                        name="amina", role="agent", password_hash="x", created_at=datetime.now(UTC)
                    )
                )
                adding = threading.Thread(target=add)
                adding.start()
                # Our check saw no row; our insert now waits on the other's (the unique key).
                waiting = sa.text("select count(*) from pg_locks where not granted")
                deadline = time.monotonic() + WAIT_S
                while not watch.execute(waiting).scalar():
                    assert time.monotonic() < deadline, "the insert never waited on the other's"
                    time.sleep(0.02)
                moving.commit()
                adding.join(WAIT_S)
            assert outcome == ["exists"]
            assert store.get("amina") is not None
        finally:
            engine.dispose()


def test_making_the_demo_accounts_again_makes_none(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/gateway.db"
    upgrade(url)
    engine = open_database(url)
    try:
        store = OperatorStore(engine, key_secret=b"operators-demo")
        assert store.ensure_demo() == ["amina", "samir"]
        assert store.ensure_demo() == []  # a second worker's start, or a restart
    finally:
        engine.dispose()
