"""`ResilientBackend`: the dialogs' `Backend` port, with every protection in front of Massar.

A read goes: fresh cache entry? -> single-flight (one caller per key across workers) ->
breaker allows? -> a concurrency slot within the deadline -> `MassarClient` with what is
left of the deadline -> cache write. When that fails with `BackendUnavailable` (timeout, 5xx,
connection refused, breaker open, shed) and a stale entry exists, the stale answer is served
and its date recorded for the turn (`stale_since()`), so the engine can say "as of …".

`verify_student` and `lookup_application` count towards lockouts on the backend: they are
never cached or shared, but still pass the breaker and the slots.

Per-turn notes live in context variables: call `begin_turn()` when a turn starts.
Errors: those of `backend_client.errors`, plus `BreakerOpen` and `Shed` (both
`BackendUnavailable`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from datetime import date, datetime
from typing import TypeVar

import pydantic

from backend_client import Deadline, MassarClient
from backend_client.errors import BackendTimeout, BackendUnavailable
from backend_client.models import (
    AbsencesPage,
    AbsenceStatus,
    ApplicationSummary,
    EnrolmentApplication,
    Grades,
    GuardianLookup,
    Meta,
    VerifyResult,
)
from gateway.resilience.breaker import Breaker, BreakerOpen
from gateway.resilience.cache import Cache
from gateway.resilience.limits import BackendSlots, Shed
from gateway.resilience.metrics import Metrics
from gateway.resilience.singleflight import LocalFlights, SingleFlight

__all__ = ["DEFAULT_DEADLINE_S", "ResilientBackend", "begin_turn", "unsafe_to_repeat"]

T = TypeVar("T")

DEFAULT_DEADLINE_S = 5.0

_GUARDIAN = pydantic.TypeAdapter(GuardianLookup)
_GRADES = pydantic.TypeAdapter(Grades)
_ABSENCES = pydantic.TypeAdapter(AbsencesPage)
_APPLICATIONS = pydantic.TypeAdapter(tuple[ApplicationSummary, ...])
_META = pydantic.TypeAdapter(Meta)

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


def _opt(value: object) -> str:
    return "" if value is None else str(value)


class ResilientBackend:
    """Implements `gateway.dialogs.ports.Backend` over a `MassarClient`."""

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

    # --- reads: cached and shared -------------------------------------------------------

    async def lookup_guardian(
        self, phone: str, *, deadline: Deadline | float | None = None
    ) -> GuardianLookup:
        return await self._read(
            "guardian",
            "lookup_guardian",
            [phone],
            _GUARDIAN,
            lambda d: self.client.lookup_guardian(phone, deadline=d),
            deadline,
        )

    async def grades(
        self,
        sid: str,
        school_year: str,
        semester: int,
        *,
        on_behalf_of: str,
        deadline: Deadline | float | None = None,
    ) -> Grades:
        return await self._read(
            "grades",
            "grades",
            [sid, school_year, str(semester), on_behalf_of],
            _GRADES,
            lambda d: self.client.grades(
                sid, school_year, semester, on_behalf_of=on_behalf_of, deadline=d
            ),
            deadline,
        )

    async def absences(
        self,
        sid: str,
        *,
        on_behalf_of: str,
        date_from: date | None = None,
        date_to: date | None = None,
        status: AbsenceStatus | None = None,
        limit: int | None = None,
        deadline: Deadline | float | None = None,
    ) -> AbsencesPage:
        args = [sid, on_behalf_of, _opt(date_from), _opt(date_to), _opt(status), _opt(limit)]
        return await self._read(
            "absences",
            "absences",
            args,
            _ABSENCES,
            lambda d: self.client.absences(
                sid,
                on_behalf_of=on_behalf_of,
                date_from=date_from,
                date_to=date_to,
                status=status,
                limit=limit,
                deadline=d,
            ),
            deadline,
        )

    async def student_applications(
        self, sid: str, *, on_behalf_of: str, deadline: Deadline | float | None = None
    ) -> tuple[ApplicationSummary, ...]:
        return await self._read(
            "enrolment",
            "student_applications",
            [sid, on_behalf_of],
            _APPLICATIONS,
            lambda d: self.client.student_applications(sid, on_behalf_of=on_behalf_of, deadline=d),
            deadline,
        )

    async def meta(self, *, deadline: Deadline | float | None = None) -> Meta:
        return await self._read(
            "meta", "meta", [], _META, lambda d: self.client.meta(deadline=d), deadline
        )

    # --- calls the backend counts: never cached, never shared ---------------------------

    async def verify_student(
        self,
        massar_code: str,
        birth_date: date,
        phone: str,
        *,
        deadline: Deadline | float | None = None,
    ) -> VerifyResult:
        return await self._once(
            "verify_student",
            lambda d: self.client.verify_student(massar_code, birth_date, phone, deadline=d),
            deadline,
        )

    async def lookup_application(
        self, number: str, child_birth_date: date, *, deadline: Deadline | float | None = None
    ) -> EnrolmentApplication:
        return await self._once(
            "lookup_application",
            lambda d: self.client.lookup_application(number, child_birth_date, deadline=d),
            deadline,
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
