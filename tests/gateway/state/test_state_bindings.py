"""SqlBindings on SQLite (a temporary file) and on PostgreSQL when it answers."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from gateway.dialogs.ports import Bindings
from gateway.state.bindings import SqlBindings, phone_binding
from gateway.state.connections import open_database
from gateway.state.migrate import upgrade

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]

PHONE = "+212612345678"
CASABLANCA_SUMMER = timezone(timedelta(hours=1))


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_url: str | None
) -> Iterator[sa.Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/var/gateway.db"  # upgrade creates the folder
    elif postgres_url is None:
        pytest.skip("PostgreSQL does not answer on 127.0.0.1:5432 (TEST_POSTGRES_URL)")
    else:
        url = postgres_url
    upgrade(url)  # as `python -m gateway migrate` does before the gateway starts
    engine = open_database(url)
    yield engine
    engine.dispose()


@pytest.fixture
def key_secret() -> bytes:
    # One secret per test: its rows have hashes no other test (or run) writes.
    return f"bindings-{uuid.uuid4()}".encode()


@pytest.fixture
def bindings(engine: sa.Engine, key_secret: bytes) -> Iterator[SqlBindings]:
    store = SqlBindings(engine, key_secret=key_secret)
    yield store
    ours = [store.phone_h(p) for p in (PHONE, "+212612345679")]
    with engine.begin() as conn:
        conn.execute(sa.delete(phone_binding).where(phone_binding.c.phone_h.in_(ours)))


async def test_a_phone_with_no_binding_sees_no_student(bindings: Bindings) -> None:
    assert await bindings.bound_since(PHONE) == {}


async def test_bound_at_round_trips_as_an_aware_utc_datetime(bindings: Bindings) -> None:
    at = datetime(2025, 9, 8, 9, 30, 15, 123456, tzinfo=CASABLANCA_SUMMER)
    await bindings.bind(PHONE, "stu_1", at)
    since = await bindings.bound_since(PHONE)
    assert since == {"stu_1": at}
    assert since["stu_1"].utcoffset() == timedelta(0)
    assert since["stu_1"] == datetime(2025, 9, 8, 8, 30, 15, 123456, tzinfo=UTC)


async def test_binding_again_refreshes_bound_at(bindings: SqlBindings, engine: sa.Engine) -> None:
    first = datetime(2025, 1, 10, 12, 0, tzinfo=UTC)
    later = datetime(2025, 7, 1, 8, 0, tzinfo=UTC)
    await bindings.bind(PHONE, "stu_1", first)
    await bindings.bind(PHONE, "stu_2", first)
    await bindings.bind(PHONE, "stu_1", later)
    assert await bindings.bound_since(PHONE) == {"stu_1": later, "stu_2": first}
    query = sa.select(sa.func.count()).where(phone_binding.c.phone_h == bindings.phone_h(PHONE))
    with engine.connect() as conn:
        assert conn.execute(query).scalar_one() == 2


async def test_bindings_belong_to_one_phone(bindings: Bindings) -> None:
    await bindings.bind(PHONE, "stu_1", datetime(2025, 1, 10, tzinfo=UTC))
    assert await bindings.bound_since("+212612345679") == {}


async def test_no_phone_number_is_stored(bindings: SqlBindings, engine: sa.Engine) -> None:
    await bindings.bind(PHONE, "stu_1", datetime(2025, 1, 10, tzinfo=UTC))
    phone_h = bindings.phone_h(PHONE)
    assert len(phone_h) == 64
    assert int(phone_h, 16) >= 0  # hex
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(phone_binding).where(phone_binding.c.phone_h == phone_h)
        ).all()
    assert len(rows) == 1
    for value in rows[0]:
        assert PHONE.removeprefix("+212") not in str(value)
    other_secret = SqlBindings(engine, key_secret=b"another deployment")
    assert other_secret.phone_h(PHONE) != phone_h


async def test_a_naive_binding_time_is_refused(bindings: Bindings) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        await bindings.bind(PHONE, "stu_1", datetime(2025, 1, 10))  # noqa: DTZ001
