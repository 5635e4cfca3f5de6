"""`ResilientBackend`: the client's calls, with every protection in front of Massar.

The facade has each public method of `backend_client.Endpoints` with the client's own
signature, made from the client's methods and `backend_client.policy` (`endpoints.ENDPOINTS`),
so a new endpoint is a method on the client (and its `CACHED` entry when its answers are
cached); nothing is declared here per endpoint. It implements `gateway.dialogs.ports.Backend`.

A cached read goes: fresh cache entry? -> single-flight (one caller per key across workers) ->
breaker allows? -> a concurrency slot within the deadline -> `MassarClient` with what is
left of the deadline -> cache write. When that fails with `BackendUnavailable` (timeout, 5xx,
connection refused, breaker open, shed) and a stale entry exists, the stale answer is served
and its date recorded for the turn (`stale_since()`), so the engine can say "as of …".
A read without a cache policy goes straight to the breaker and the slots.

The calls in `SENT_ONCE` (`verify_student`, `lookup_application`) count towards lockouts on
the backend: they are never cached or shared, but still pass the breaker and the slots.

Per-turn notes live in context variables: call `begin_turn()` when a turn starts.
Errors: those of `backend_client.errors`, plus `BreakerOpen` and `Shed` (both
`BackendUnavailable`).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import pydantic

from backend_client import Deadline, Endpoints, MassarClient
from backend_client.errors import BackendTimeout, BackendUnavailable
from gateway.resilience.breaker import Breaker, BreakerOpen
from gateway.resilience.cache import Cache
from gateway.resilience.endpoints import ENDPOINTS, Endpoint
from gateway.resilience.limits import BackendSlots, Shed
from gateway.resilience.metrics import Metrics
from gateway.resilience.singleflight import LocalFlights, SingleFlight

__all__ = ["DEFAULT_DEADLINE_S", "ResilientBackend", "begin_turn", "unsafe_to_repeat"]

T = TypeVar("T")

DEFAULT_DEADLINE_S = 5.0

_stale_since: ContextVar[datetime | None] = ContextVar("massar_stale_since", default=None)
_unsafe: ContextVar[bool] = ContextVar("massar_unsafe_to_repeat", default=False)


def begin_turn() -> None:
    """Forget the previous turn's notes in this context."""
    _stale_since.set(None)
    _unsafe.set(False)


def unsafe_to_repeat() -> bool:
    """True when this turn tried a call the backend counts (a verification, an application
    lookup): its input holds a code or a birth date, which must not wait in a queue, and a
    repeat could count twice."""
    return _unsafe.get()


def _deadline(deadline: Deadline | float | None) -> Deadline:
    if isinstance(deadline, Deadline):
        return deadline
    return Deadline.after(DEFAULT_DEADLINE_S if deadline is None else deadline)


if TYPE_CHECKING:
    # The type checker sees the client's methods, with their signatures, on the facade; at
    # run time each one is made from the client's method (`_protected`, after the class).
    _Calls = Endpoints
else:
    _Calls = object


class ResilientBackend(_Calls):
    """Every call of a `MassarClient`, protected; the dialogs' `Backend` port."""

    def __init__(
        self,
        client: MassarClient,
        *,
        cache: Cache,
        singleflight: SingleFlight,
        breaker: Breaker,
        slots: BackendSlots,
        metrics: Metrics | None = None,
    ) -> None:
        self.client = client
        self.cache = cache
        self.singleflight = singleflight
        self.breaker = breaker
        self.slots = slots
        self.metrics = metrics
        # Callers of one key in this worker share one read (and one Redis participant).
        self.local = LocalFlights(on_join=metrics.singleflight_joins.inc if metrics else None)

    def stale_since(self) -> datetime | None:
        """When the oldest stale answer served in this turn was fetched (None: all fresh)."""
        return _stale_since.get()

    def deadline(self, seconds: float | None = None) -> Deadline:
        """A deadline on the client's clock (`MassarClient.deadline`)."""
        return self.client.deadline(seconds)

    def _as_deadline(self, deadline: Deadline | float | None) -> Deadline:
        # What the client's own helpers (`iter_absence_pages`) call when run on the facade.
        return _deadline(deadline)

    async def _serve(
        self, endpoint: Endpoint, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        """One call of the client by its policy: cached, sent once, or a plain read."""
        arguments = endpoint.arguments(args, kwargs)
        deadline = arguments.pop("deadline", None)
        method = getattr(self.client, endpoint.name)

        def send(budget: Deadline) -> Awaitable[Any]:
            return method(**arguments, deadline=budget)  # type: ignore[no-any-return]

        if endpoint.once:
            return await self._once(endpoint.name, send, deadline)
        if endpoint.cache is None or endpoint.adapter is None:
            return await self._guarded(endpoint.name, send, _deadline(deadline))
        args_key = endpoint.key_args(arguments)
        return await self._read(
            endpoint.cache.kind, endpoint.name, args_key, endpoint.adapter, send, deadline
        )

    # --- machinery ------------------------------------------------------------------------

    async def _read(
        self,
        kind: str,
        route: str,
        args: list[str],
        adapter: pydantic.TypeAdapter[T],
        call: Callable[[Deadline], Awaitable[T]],
        deadline: Deadline | float | None,
    ) -> T:
        budget = _deadline(deadline)
        key = self.cache.key(kind, args)
        value, stale_at = await self.local.run(
            key, lambda: self._read_shared(kind, route, key, args, adapter, call, budget), budget
        )
        if stale_at is not None:
            oldest = _stale_since.get()
            if oldest is None or stale_at < oldest:
                _stale_since.set(stale_at)
        return value

    async def _read_shared(
        self,
        kind: str,
        route: str,
        key: str,
        args: list[str],
        adapter: pydantic.TypeAdapter[T],
        call: Callable[[Deadline], Awaitable[T]],
        budget: Deadline,
    ) -> tuple[T, datetime | None]:
        """One worker's read: the cache, else the cross-worker flight, else a stale copy."""
        cached = await self.cache.get(kind, args, adapter)
        if cached is not None and cached.fresh:
            self._count_cache(kind, "hit")
            return cached.value, None
        self._count_cache(kind, "miss")

        async def fetch() -> T:
            value = await self._guarded(route, call, budget)
            await self.cache.put(kind, args, adapter, value)
            return value

        async def read_fresh() -> T | None:
            entry = await self.cache.get(kind, args, adapter)
            return entry.value if entry is not None and entry.fresh else None

        try:
            return await self.singleflight.run(key, fetch, read_fresh, budget), None
        except BackendUnavailable:
            if cached is None:
                raise
            self._count_cache(kind, "stale")
            return cached.value, cached.fetched_at

    async def _once(
        self,
        route: str,
        call: Callable[[Deadline], Awaitable[T]],
        deadline: Deadline | float | None,
    ) -> T:
        _unsafe.set(True)
        return await self._guarded(route, call, _deadline(deadline))

    async def _guarded(
        self, route: str, call: Callable[[Deadline], Awaitable[T]], budget: Deadline
    ) -> T:
        """Breaker, then a slot, then the call; the outcome goes to the breaker and metrics."""
        try:
            await self.breaker.allow()
        except BreakerOpen:
            self._count_call(route, "breaker_open")
            raise
        try:
            async with self.slots.slot(budget):
                value = await call(budget)
        except Shed:
            self._count_call(route, "shed")
            raise
        except BackendTimeout:
            self._count_call(route, "timeout")
            await self.breaker.record(False)
            raise
        except BackendUnavailable:
            self._count_call(route, "unavailable")
            await self.breaker.record(False)
            raise
        except Exception:
            # A 4xx or a contract error: the backend answered, so it is up.
            self._count_call(route, "rejected")
            await self.breaker.record(True)
            raise
        self._count_call(route, "ok")
        await self.breaker.record(True)
        return value

    def _count_cache(self, kind: str, result: str) -> None:
        if self.metrics is not None:
            self.metrics.cache.labels(kind=kind, result=result).inc()

    def _count_call(self, route: str, outcome: str) -> None:
        if self.metrics is not None:
            self.metrics.backend_calls.labels(route=route, outcome=outcome).inc()


def _protected(endpoint: Endpoint) -> Callable[..., Awaitable[Any]]:
    """The facade's method for one call of the client, with the client's name, signature and
    docstring."""

    @functools.wraps(getattr(Endpoints, endpoint.name))
    async def call(self: ResilientBackend, /, *args: Any, **kwargs: Any) -> Any:
        return await self._serve(endpoint, args, kwargs)

    call.__qualname__ = f"ResilientBackend.{endpoint.name}"
    return call


for _endpoint in ENDPOINTS.values():
    setattr(ResilientBackend, _endpoint.name, _protected(_endpoint))
# The client's generators (`iter_absence_pages`) run on the facade: each call they make is one
# of the facade's, protected as any other.
for _name, _generator in inspect.getmembers(Endpoints, inspect.isasyncgenfunction):
    if not _name.startswith("_"):
        setattr(ResilientBackend, _name, _generator)
