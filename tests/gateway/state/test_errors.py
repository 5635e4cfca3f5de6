"""`@translated`: a store's public methods raise `StoreUnavailable`, never a driver's error."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
import redis
import sqlalchemy as sa

from gateway.state.errors import StoreError, StoreUnavailable, translated

pytestmark = pytest.mark.anyio


@translated
class Broken:
    """A store whose engine is down, one method of each shape."""

    def plain(self) -> None:
        raise redis.ConnectionError("connection refused to mg:{abc}:s")

    async def coro(self) -> None:
        raise sa.exc.OperationalError("select", {}, Exception("down"))

    async def agen(self) -> AsyncIterator[int]:
        yield 1
        raise redis.TimeoutError("timed out")

    @asynccontextmanager
    async def held(self) -> AsyncIterator[str]:
        raise redis.ConnectionError("refused")
        yield "never"

    def mine(self) -> None:
        raise ValueError("the store's own refusal passes through")

    def _private(self) -> None:
        raise redis.ConnectionError("left as it is")


def test_a_plain_method_raises_store_unavailable_naming_redis_and_no_key() -> None:
    with pytest.raises(StoreUnavailable) as caught:
        Broken().plain()
    assert caught.value.part == "redis"
    assert isinstance(caught.value, StoreError)
    assert isinstance(caught.value.__cause__, redis.ConnectionError)
    assert "mg:" not in str(caught.value)  # the driver's text (a key) is not repeated


async def test_a_coroutine_names_the_database() -> None:
    with pytest.raises(StoreUnavailable) as caught:
        await Broken().coro()
    assert caught.value.part == "database"


async def test_an_async_generator_is_translated_midway() -> None:
    items = Broken().agen()
    assert await anext(items) == 1
    with pytest.raises(StoreUnavailable):
        await anext(items)


async def test_an_async_context_manager_is_translated() -> None:
    with pytest.raises(StoreUnavailable):
        async with Broken().held():
            pass


def test_the_stores_own_errors_and_private_methods_pass_through() -> None:
    with pytest.raises(ValueError, match="own refusal"):
        Broken().mine()
    with pytest.raises(redis.ConnectionError):
        Broken()._private()
