"""The state layer's errors: what a caller of a store may catch instead of a driver's.

`StoreError` is the root. `StoreUnavailable` means the Redis or the database did not answer
(connection refused, timed out, failed over, a script refused): the store raises it `from` the
driver's error (`redis.RedisError`, `sqlalchemy.exc.SQLAlchemyError`), so a caller above this
layer needs neither driver to tell a storage failure from its own. `part` names which engine
failed ("redis" or "database"), for the part-down log lines. Also under `StoreError`:

    StoreError
     ├── StoreUnavailable  Redis or the database did not answer (`part`)
     ├── SessionConflict   the turn's own refusals (`gateway.state.store`)
     ├── LockTimeout
     ├── StreamMissing     an outbox stream or its group went away (`state.outbox.streams`)
     └── MigrationFailed   `upgrade` could not migrate: the first line of why (`state.migrate`)

A store says so once, with `@translated` on its class, or on a function that is a store of
its own (a plain try/except around each call: nothing is paid unless the driver raises):
every public method (plain, async, async generator or async context manager) then raises
`StoreUnavailable` where the driver raised, and nothing else changes.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar, cast

from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

__all__ = ["DRIVER_ERRORS", "StoreError", "StoreUnavailable", "translated", "unavailable"]

DRIVER_ERRORS: tuple[type[Exception], ...] = (RedisError, SQLAlchemyError)


class StoreError(Exception):
    """Something about the shared state stopped a write or a wait."""


class StoreUnavailable(StoreError):
    """The Redis or the database behind a store did not answer."""

    def __init__(self, message: str, *, part: str = "redis") -> None:
        super().__init__(message)
        self.part = part


def part_of(exc: BaseException) -> str:
    """Which engine a driver's error comes from: "redis" or "database"."""
    return "database" if isinstance(exc, SQLAlchemyError) else "redis"


def unavailable(exc: BaseException, what: str = "") -> StoreUnavailable:
    """The `StoreUnavailable` for a driver's error (raise it `from exc`). Its message names
    the exception's type only: a driver's text may quote a key, a row or a phone's hash."""
    where = f"{what}: " if what else ""
    return StoreUnavailable(f"{where}{type(exc).__name__}", part=part_of(exc))


def _wrap(name: str, method: Callable[..., Any]) -> Callable[..., Any]:
    if inspect.isasyncgenfunction(method):

        @functools.wraps(method)
        async def agen(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
            try:
                async for item in method(*args, **kwargs):
                    yield item
            except DRIVER_ERRORS as exc:
                raise unavailable(exc, name) from exc

        return agen
    if inspect.iscoroutinefunction(method):

        @functools.wraps(method)
        async def coro(*args: Any, **kwargs: Any) -> Any:
            try:
                return await method(*args, **kwargs)
            except DRIVER_ERRORS as exc:
                raise unavailable(exc, name) from exc

        return coro
    inner = getattr(method, "__wrapped__", None)  # an @asynccontextmanager's generator
    if inner is not None and inspect.isasyncgenfunction(inner):

        @asynccontextmanager
        @functools.wraps(inner)
        async def acm(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
            try:
                async with method(*args, **kwargs) as value:
                    yield value
            except DRIVER_ERRORS as exc:
                raise unavailable(exc, name) from exc

        return acm

    @functools.wraps(method)
    def plain(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except DRIVER_ERRORS as exc:
            raise unavailable(exc, name) from exc

    return plain


C = TypeVar("C", bound=Callable[..., Any])


def translated(cls: C) -> C:
    """Class decorator: the class's public methods raise `StoreUnavailable` (from the
    driver's error) instead of `redis`'s or SQLAlchemy's exceptions. Properties, static
    and class methods and names starting with `_` are left as they are. On a module's
    function (a store without a class, as `gateway.state.forget`'s), the function itself."""
    if not isinstance(cls, type):
        return cast(C, _wrap(cls.__name__, cls))
    for name, member in list(vars(cls).items()):
        if name.startswith("_") or not inspect.isfunction(member):
            continue
        setattr(cls, name, _wrap(f"{cls.__name__}.{name}", member))
    return cls
