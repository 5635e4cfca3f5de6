"""The async client of the Massar backend API (DOMAIN.md §8)."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any, Final, Generic, Self, TypeVar

import anyio
import httpx
from pydantic import BaseModel, ValidationError
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt, stop_any
from tenacity.stop import stop_base

from .deadline import Clock, Deadline
from .errors import (
    BackendError,
    BackendRejected,
    BackendTimeout,
    BackendUnavailable,
    BadResponse,
    CursorExpired,
    InvalidRequest,
    NotFound,
    NotLinked,
    RateLimited,
    Unauthorized,
    VerificationLocked,
)
from .models import (
    AbsenceKind,
    AbsencesPage,
    AbsenceStatus,
    ApplicationSummary,
    BackendModel,
    ChangesHead,
    ChangesPage,
    ChangeType,
    EnrolmentApplication,
    Grades,
    GuardianLookup,
    Health,
    Meta,
    StudentProfile,
    StudentSummary,
    VerifyResult,
    YearResult,
)

__all__ = ["DEFAULT_LIMITS", "DEFAULT_TIMEOUT", "ROUTES", "MassarClient", "RetryPolicy", "Route"]

M = TypeVar("M", bound=BaseModel)

DEFAULT_TIMEOUT: Final = httpx.Timeout(connect=1.0, read=4.0, write=2.0, pool=1.0)
"""Per-attempt timeouts; each phase is further cut down to what the deadline leaves."""

DEFAULT_LIMITS: Final = httpx.Limits(
    max_connections=100, max_keepalive_connections=20, keepalive_expiry=30.0
)

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """How idempotent reads are retried: full-jitter exponential backoff inside the deadline.

    The wait before retry *n* (n ≥ 1) is uniform in ``[0, min(cap, base · 2^(n-1))]``, or the
    server's ``Retry-After`` when that is longer. No retry starts when the wait plus
    `min_attempt_budget` would not fit in what is left of the deadline.
    """

    max_attempts: int = 3
    backoff_base: float = 0.1
    backoff_cap: float = 1.0
    min_attempt_budget: float = 0.05


class _Collection(BackendModel):
    """The list envelope of the contract: ``{"items": [...], "next_cursor": ...}``."""


class _StudentList(_Collection):
    items: tuple[StudentSummary, ...]


class _ApplicationList(_Collection):
    items: tuple[ApplicationSummary, ...]


@dataclass(frozen=True, slots=True)
class Route(Generic[M]):
    """One route of the API as this client calls it: its reply model and whether to retry."""

    method: str
    path: str
    """Relative to the base URL, with ``{sid}``-style placeholders for opaque ids."""
    model: type[M]
    idempotent: bool
    """Safe to send again; False for calls whose failures the backend counts."""

    def path_for(self, **ids: str) -> str:
        return self.path.format(**{name: _segment(value) for name, value in ids.items()})


LOOKUP_GUARDIAN = Route("POST", "/guardians/lookup", GuardianLookup, idempotent=True)
VERIFY_STUDENT = Route("POST", "/students/verify", VerifyResult, idempotent=False)
GUARDIAN_STUDENTS = Route("GET", "/guardians/{gid}/students", _StudentList, idempotent=True)
GUARDIAN_APPLICATIONS = Route(
    "GET", "/guardians/{gid}/enrolment-applications", _ApplicationList, idempotent=True
)
STUDENT = Route("GET", "/students/{sid}", StudentProfile, idempotent=True)
GRADES = Route("GET", "/students/{sid}/grades", Grades, idempotent=True)
ABSENCES = Route("GET", "/students/{sid}/absences", AbsencesPage, idempotent=True)
RESULTS = Route("GET", "/students/{sid}/results", YearResult, idempotent=True)
STUDENT_APPLICATIONS = Route(
    "GET", "/students/{sid}/enrolment-applications", _ApplicationList, idempotent=True
)
LOOKUP_APPLICATION = Route(
    "POST", "/enrolment-applications/lookup", EnrolmentApplication, idempotent=False
)
CHANGES = Route("GET", "/changes", ChangesPage, idempotent=True)
CHANGES_HEAD = Route("GET", "/changes/head", ChangesHead, idempotent=True)
HEALTH = Route("GET", "/health", Health, idempotent=True)
META = Route("GET", "/meta", Meta, idempotent=True)

ROUTES: Final[tuple[Route[Any], ...]] = (
    LOOKUP_GUARDIAN,
    VERIFY_STUDENT,
    GUARDIAN_STUDENTS,
    GUARDIAN_APPLICATIONS,
    STUDENT,
    GRADES,
    ABSENCES,
    RESULTS,
    STUDENT_APPLICATIONS,
    LOOKUP_APPLICATION,
    CHANGES,
    CHANGES_HEAD,
    HEALTH,
    META,
)
"""Every route the client calls; a test checks them against the server's ``/openapi.json``."""


_REJECTIONS: Final[dict[int, type[BackendRejected]]] = {
    400: InvalidRequest,
    401: Unauthorized,
    403: NotLinked,
    404: NotFound,
    410: CursorExpired,
}
_RETRYABLE_5XX: Final = frozenset({502, 503, 504})


class MassarClient:
    """One client per process, on a pooled `httpx.AsyncClient`.

    `base_url` includes the API prefix, e.g. ``https://massar.example/api/v1``. Pass `http` to
    share the process-wide client (or, in tests, one built on a mock or ASGI transport); it is
    then not closed by `aclose()`, and its timeout is the per-attempt one unless `timeout` is
    given. Every method takes `deadline`: a `Deadline` shared by the
    calls of one user turn, a number of seconds from now, or None for `default_deadline`.
    Reads are retried on retryable errors; `verify_student` and `lookup_application` are sent
    once, because the backend counts their failures towards a lockout.
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        http: httpx.AsyncClient | None = None,
        timeout: httpx.Timeout | None = None,
        limits: httpx.Limits = DEFAULT_LIMITS,
        default_deadline: float = 5.0,
        retry: RetryPolicy | None = None,
        rng: random.Random | None = None,
        sleep: Sleep | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._token = token
        self._owns_http = http is None
        if timeout is None:
            timeout = http.timeout if http is not None else DEFAULT_TIMEOUT
        self._timeout = timeout
        self._http = http if http is not None else httpx.AsyncClient(timeout=timeout, limits=limits)
        self._default_deadline = default_deadline
        self._retry = retry if retry is not None else RetryPolicy()
        self._rng = rng if rng is not None else random.Random()  # noqa: S311 (jitter, not crypto)
        self._sleep: Sleep = sleep if sleep is not None else anyio.sleep
        self._clock = clock

    def __repr__(self) -> str:
        return f"MassarClient(base_url={self._base_url!r}, token='**********')"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP client if this object built it."""
        if self._owns_http:
            await self._http.aclose()

    def deadline(self, seconds: float | None = None) -> Deadline:
        """A deadline on this client's clock, `default_deadline` from now unless told."""
        return Deadline.after(
            self._default_deadline if seconds is None else seconds, clock=self._clock
        )

    # --- guardians ----------------------------------------------------------------------

    async def lookup_guardian(
        self, phone: str, *, deadline: Deadline | float | None = None, request_id: str | None = None
    ) -> GuardianLookup:
        """`POST /guardians/lookup`: the guardian holding `phone` (E.164) and their children.

        A POST only to keep the phone out of URLs; it is a pure read, so it is retried.
        """
        return await self._call(
            LOOKUP_GUARDIAN,
            json={"phone": phone},
            deadline=deadline,
            request_id=request_id,
        )

    async def verify_student(
        self,
        massar_code: str,
        birth_date: date,
        phone: str,
        *,
        deadline: Deadline | float | None = None,
        request_id: str | None = None,
    ) -> VerifyResult:
        """`POST /students/verify`: does this code, birth date and guardian phone match?

        Sent once, never retried: the backend counts failures towards the lockout.
        """
        return await self._call(
            VERIFY_STUDENT,
            json={
                "massar_code": massar_code,
                "birth_date": birth_date.isoformat(),
                "phone": phone,
            },
            deadline=deadline,
            request_id=request_id,
        )

    async def guardian_students(
        self, gid: str, *, deadline: Deadline | float | None = None, request_id: str | None = None
    ) -> tuple[StudentSummary, ...]:
        """`GET /guardians/{gid}/students`: the guardian's children with their current class."""
        page = await self._call(
            GUARDIAN_STUDENTS,
            ids={"gid": gid},
            deadline=deadline,
            request_id=request_id,
        )
        return page.items

    async def guardian_applications(
        self, gid: str, *, deadline: Deadline | float | None = None, request_id: str | None = None
    ) -> tuple[ApplicationSummary, ...]:
        """`GET /guardians/{gid}/enrolment-applications`: applications this guardian filed."""
        page = await self._call(
            GUARDIAN_APPLICATIONS,
            ids={"gid": gid},
            deadline=deadline,
            request_id=request_id,
            on_behalf_of=gid,
        )
        return page.items

    # --- students -----------------------------------------------------------------------

    async def student(
        self,
        sid: str,
        *,
        on_behalf_of: str,
        deadline: Deadline | float | None = None,
        request_id: str | None = None,
    ) -> StudentProfile:
        """`GET /students/{sid}`: the minimal profile."""
        return await self._call(
            STUDENT,
            ids={"sid": sid},
            deadline=deadline,
            request_id=request_id,
            on_behalf_of=on_behalf_of,
        )

    async def grades(
        self,
        sid: str,
        school_year: str,
        semester: int,
        *,
        on_behalf_of: str,
        deadline: Deadline | float | None = None,
        request_id: str | None = None,
    ) -> Grades:
        """`GET /students/{sid}/grades`; `NotFound(code="not-published")` before publication."""
        return await self._call(
            GRADES,
            ids={"sid": sid},
            params={"school_year": school_year, "semester": str(semester)},
            deadline=deadline,
            request_id=request_id,
            on_behalf_of=on_behalf_of,
        )

    async def absences(
        self,
        sid: str,
        *,
        on_behalf_of: str,
        date_from: date | None = None,
        date_to: date | None = None,
        status: AbsenceStatus | None = None,
        kind: AbsenceKind | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        deadline: Deadline | float | None = None,
        request_id: str | None = None,
    ) -> AbsencesPage:
        """`GET /students/{sid}/absences`: one page; follow `next_cursor` for the next."""
        params: dict[str, str] = {}
        if date_from is not None:
            params["from"] = date_from.isoformat()
        if date_to is not None:
            params["to"] = date_to.isoformat()
        if status is not None:
            params["status"] = str(status)
        if kind is not None:
            params["kind"] = str(kind)
        if limit is not None:
            params["limit"] = str(limit)
        if cursor is not None:
            params["cursor"] = cursor
        return await self._call(
            ABSENCES,
            ids={"sid": sid},
            params=params,
            deadline=deadline,
            request_id=request_id,
            on_behalf_of=on_behalf_of,
        )

    async def iter_absence_pages(
        self,
        sid: str,
        *,
        on_behalf_of: str,
        date_from: date | None = None,
        date_to: date | None = None,
        status: AbsenceStatus | None = None,
        kind: AbsenceKind | None = None,
        limit: int | None = None,
        deadline: Deadline | float | None = None,
        request_id: str | None = None,
    ) -> AsyncIterator[AbsencesPage]:
        """Every page of `absences`, following cursors, all within one deadline."""
        budget = self._as_deadline(deadline)
        cursor: str | None = None
        while True:
            page = await self.absences(
                sid,
                on_behalf_of=on_behalf_of,
                date_from=date_from,
                date_to=date_to,
                status=status,
                kind=kind,
                limit=limit,
                cursor=cursor,
                deadline=budget,
                request_id=request_id,
            )
            yield page
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    async def results(
        self,
        sid: str,
        school_year: str,
        *,
        on_behalf_of: str,
        deadline: Deadline | float | None = None,
        request_id: str | None = None,
    ) -> YearResult:
        """`GET /students/{sid}/results`; `NotFound(code="not-published")` before the council."""
        return await self._call(
            RESULTS,
            ids={"sid": sid},
            params={"school_year": school_year},
            deadline=deadline,
            request_id=request_id,
            on_behalf_of=on_behalf_of,
        )

    async def student_applications(
        self,
        sid: str,
        *,
        on_behalf_of: str,
        deadline: Deadline | float | None = None,
        request_id: str | None = None,
    ) -> tuple[ApplicationSummary, ...]:
        """`GET /students/{sid}/enrolment-applications`: re-registration and transfers."""
        page = await self._call(
            STUDENT_APPLICATIONS,
            ids={"sid": sid},
            deadline=deadline,
            request_id=request_id,
            on_behalf_of=on_behalf_of,
        )
        return page.items

    # --- enrolment ----------------------------------------------------------------------

    async def lookup_application(
        self,
        number: str,
        child_birth_date: date,
        *,
        deadline: Deadline | float | None = None,
        request_id: str | None = None,
    ) -> EnrolmentApplication:
        """`POST /enrolment-applications/lookup`: status and history by number.

        Sent once, never retried: the backend counts misses towards a lockout (429).
        """
        return await self._call(
            LOOKUP_APPLICATION,
            json={"number": number, "child_birth_date": child_birth_date.isoformat()},
            deadline=deadline,
            request_id=request_id,
        )

    # --- change feed and service --------------------------------------------------------

    async def changes(
        self,
        *,
        cursor: str | None = None,
        limit: int | None = None,
        types: Sequence[ChangeType] | None = None,
        deadline: Deadline | float | None = None,
        request_id: str | None = None,
    ) -> ChangesPage:
        """`GET /changes`: events after `cursor`; `CursorExpired` means resync from the head."""
        params: dict[str, str] = {}
        if cursor is not None:
            params["cursor"] = cursor
        if limit is not None:
            params["limit"] = str(limit)
        if types:
            params["types"] = ",".join(str(t) for t in types)
        return await self._call(
            CHANGES,
            params=params,
            deadline=deadline,
            request_id=request_id,
        )

    async def changes_head(
        self, *, deadline: Deadline | float | None = None, request_id: str | None = None
    ) -> ChangesHead:
        """`GET /changes/head`: the current cursor, to start from or to resync after a 410."""
        return await self._call(
            CHANGES_HEAD,
            deadline=deadline,
            request_id=request_id,
        )

    async def health(
        self, *, deadline: Deadline | float | None = None, request_id: str | None = None
    ) -> Health:
        """`GET /health`: liveness."""
        return await self._call(HEALTH, deadline=deadline, request_id=request_id)

    async def meta(
        self, *, deadline: Deadline | float | None = None, request_id: str | None = None
    ) -> Meta:
        """`GET /meta`: the current school year and semester, and the sandbox clock."""
        return await self._call(META, deadline=deadline, request_id=request_id)

    # --- machinery ----------------------------------------------------------------------

    def _as_deadline(self, deadline: Deadline | float | None) -> Deadline:
        if isinstance(deadline, Deadline):
            return deadline
        return self.deadline(deadline)

    async def _call(
        self,
        route: Route[M],
        *,
        ids: Mapping[str, str] | None = None,
        deadline: Deadline | float | None,
        request_id: str | None,
        on_behalf_of: str | None = None,
        params: Mapping[str, str] | None = None,
        json: Mapping[str, Any] | None = None,
    ) -> M:
        budget = self._as_deadline(deadline)
        rid = request_id if request_id is not None else f"req_{uuid.uuid4().hex}"
        headers = {
            "Authorization": f"Bearer {self._token}",
            "Accept": "application/json",
            "X-Request-ID": rid,
        }
        if on_behalf_of is not None:
            headers["X-On-Behalf-Of"] = on_behalf_of
        url = self._base_url + route.path_for(**(ids or {}))

        async def attempt() -> M:
            return await self._attempt(
                route.model, route.method, url, headers, params, json, rid, budget
            )

        if not route.idempotent:
            return await attempt()
        retrying = AsyncRetrying(
            retry=retry_if_exception(_is_retryable),
            wait=self._wait,
            stop=stop_any(
                stop_after_attempt(self._retry.max_attempts),
                _StopAtDeadline(budget, self._retry.min_attempt_budget),
            ),
            sleep=self._sleep,
            reraise=True,
        )
        return await retrying(attempt)

    async def _attempt(
        self,
        model: type[M],
        method: str,
        url: str,
        headers: Mapping[str, str],
        params: Mapping[str, str] | None,
        json: Mapping[str, Any] | None,
        rid: str,
        budget: Deadline,
    ) -> M:
        remaining = budget.remaining()
        if remaining < self._retry.min_attempt_budget:
            raise BackendTimeout(request_id=rid)
        try:
            with anyio.fail_after(remaining):
                response = await self._http.request(
                    method,
                    url,
                    headers=headers,
                    params=params,
                    json=json,
                    timeout=_clamp(self._timeout, remaining),
                )
        except (TimeoutError, httpx.TimeoutException) as exc:
            raise BackendTimeout(request_id=rid) from exc
        except httpx.TransportError as exc:
            raise BackendUnavailable(request_id=rid) from exc
        if response.status_code >= 300:
            raise _error_from(response, rid)
        try:
            return model.model_validate_json(response.content)
        except ValidationError as exc:
            error = BadResponse(status=response.status_code, code="bad-response", request_id=rid)
            error.add_note(_where(exc))
            # Not chained: pydantic's message quotes the offending input (a name, a phone).
            raise error from None

    def _wait(self, state: RetryCallState) -> float:
        policy = self._retry
        ceiling = min(policy.backoff_cap, policy.backoff_base * 2 ** (state.attempt_number - 1))
        backoff = self._rng.uniform(0.0, ceiling)
        outcome = state.outcome
        exc = outcome.exception() if outcome is not None else None
        if isinstance(exc, BackendError) and exc.retry_after is not None:
            return max(backoff, exc.retry_after)
        return backoff


def _is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, BackendError) and exc.retryable


class _StopAtDeadline(stop_base):
    """Stop when the coming wait plus a minimal attempt would not fit in the deadline."""

    def __init__(self, budget: Deadline, min_attempt_budget: float) -> None:
        self._budget = budget
        self._min_attempt_budget = min_attempt_budget

    def __call__(self, retry_state: RetryCallState) -> bool:
        return retry_state.upcoming_sleep + self._min_attempt_budget > self._budget.remaining()


def _clamp(timeout: httpx.Timeout, remaining: float) -> httpx.Timeout:
    def cut(value: float | None) -> float:
        return remaining if value is None else min(value, remaining)

    return httpx.Timeout(
        connect=cut(timeout.connect),
        read=cut(timeout.read),
        write=cut(timeout.write),
        pool=cut(timeout.pool),
    )


def _segment(value: str) -> str:
    """An id as one path segment: ids are opaque, so never let one add a path."""
    if not value or "/" in value or value in {".", ".."}:
        raise ValueError("an id must be one non-empty path segment")
    return value


def _error_from(response: httpx.Response, rid: str) -> BackendError:
    """Map an error reply (RFC 9457 problem+json, or anything else) to the error tree."""
    status = response.status_code
    code: str | None = None
    request_id = response.headers.get("X-Request-ID", rid)
    try:
        problem = response.json()
    except ValueError:
        problem = None
    if isinstance(problem, dict):
        if isinstance(problem.get("code"), str):
            code = problem["code"]
        if isinstance(problem.get("request_id"), str):
            request_id = problem["request_id"]
    retry_after = _retry_after(response.headers.get("Retry-After"))
    fields: dict[str, Any] = {
        "status": status,
        "code": code,
        "request_id": request_id,
        "retry_after": retry_after,
    }
    if status == 429:
        if code == "verification-locked":
            return VerificationLocked(**fields)
        return RateLimited(**fields)
    if status in _REJECTIONS:
        return _REJECTIONS[status](**fields)
    if 400 <= status < 500:
        return BackendRejected(**fields)
    if status >= 500:
        # 500 signals a bug rather than load: the caller is told the backend is unavailable,
        # but the same request is not sent again.
        return BackendUnavailable(**fields, retryable=status in _RETRYABLE_5XX)
    return BadResponse(**fields)


def _retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header: delta-seconds or an HTTP date."""
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _where(exc: ValidationError) -> str:
    """Where a body broke the contract, without any of the values it held."""
    places = sorted({".".join(map(str, err["loc"])) + ":" + err["type"] for err in exc.errors()})
    return "invalid fields: " + ", ".join(places[:20])
