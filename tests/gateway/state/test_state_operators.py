"""OperatorStore and the command line's audit line, on SQLite: a database that cannot answer
(never migrated) is `StoreUnavailable` naming the database, never a driver error."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from gateway.state.connections import open_database
from gateway.state.console.audit import AuditLog
from gateway.state.console.operators import NoSuchOperator, OperatorExists, OperatorStore
from gateway.state.errors import StoreUnavailable
from gateway.state.migrate import upgrade
from gateway.state.schema import console_audit

pytestmark = pytest.mark.anyio

KEY = b"operators-test-key"


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    url = f"sqlite:///{tmp_path}/gateway.db"
    upgrade(url)
    engine = open_database(url)
    yield engine
    engine.dispose()


@pytest.fixture
def bare(tmp_path: Path) -> Iterator[sa.Engine]:
    """A database no migration ever ran on: every table is missing."""
    engine = open_database(f"sqlite:///{tmp_path}/bare.db")
    yield engine
    engine.dispose()


async def test_an_operator_signs_in_with_their_password_only(engine: sa.Engine) -> None:
    store = OperatorStore(engine, key_secret=KEY)
    store.add("amina", "agent", "a-long-password")
    with pytest.raises(OperatorExists):
        store.add("amina", "agent", "a-long-password")
    found = await store.check("amina", "a-long-password")
    assert found is not None
    assert (found.name, found.role, found.enabled) == ("amina", "agent", True)
    assert await store.check("amina", "wrong-password") is None
    assert await store.check("nobody", "a-long-password") is None
    with pytest.raises(NoSuchOperator):
        store.disable("nobody")


async def test_a_database_that_does_not_answer_is_store_unavailable(bare: sa.Engine) -> None:
    store = OperatorStore(bare, key_secret=KEY)
    with pytest.raises(StoreUnavailable) as caught:
        await store.check("amina", "a-long-password")
    assert caught.value.part == "database"
    assert isinstance(caught.value.__cause__, SQLAlchemyError)
    with pytest.raises(StoreUnavailable):
        store.all()
    with pytest.raises(StoreUnavailable):
        store.add("amina", "agent", "a-long-password")


def test_the_command_lines_audit_line_is_cleaned(engine: sa.Engine) -> None:
    AuditLog(engine).write_blocking(
        "cli", "operator_disable", reason="left\u202e the team\n", detail="operator amina"
    )
    with engine.connect() as conn:
        row = conn.execute(sa.select(console_audit)).one()
    assert (row.operator, row.action, row.detail) == ("cli", "operator_disable", "operator amina")
    assert row.reason == "left the team"  # no bidi override, no line break
    assert row.phone_masked is None


def test_an_audit_line_on_a_database_that_does_not_answer_is_store_unavailable(
    bare: sa.Engine,
) -> None:
    with pytest.raises(StoreUnavailable) as caught:
        AuditLog(bare).write_blocking("cli", "operator_add", detail="operator amina")
    assert caught.value.part == "database"
