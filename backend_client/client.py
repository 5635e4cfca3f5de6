"""The async client of the Massar backend API (DOMAIN.md §8)."""

from __future__ import annotations

import random
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import date
from types import TracebackType
from typing import Final, Self, TypeVar

import anyio
import httpx
from pydantic import BaseModel

from .calls import Caller, Sleep
from .deadline import Clock, Deadline
from .models import (
    AbsenceKind,
    AbsencesPage,
    AbsenceStatus,
    ApplicationSummary,
    ChangesHead,
    ChangesPage,
    ChangeType,
    EnrolmentApplication,
    Grades,
    GuardianContact,
    GuardianLookup,
    Health,
    Meta,
    StudentProfile,
    StudentSummary,
    VerifyResult,
    YearResult,
)
from .routes import (
    ABSENCES,
    CHANGES,
    CHANGES_HEAD,
    GRADES,
    GUARDIAN_APPLICATIONS,
    GUARDIAN_STUDENTS,
    GUARDIANS_BATCH,
    HEALTH,
    LOOKUP_APPLICATION,
    LOOKUP_GUARDIAN,
    META,
    RESULTS,
    STUDENT,
    STUDENT_APPLICATIONS,
    VERIFY_STUDENT,
)

__all__ = [
    "DEFAULT_LIMITS",
    "DEFAULT_TIMEOUT",
    "GUARDIANS_BATCH_MAX",
    "MassarClient",
    "RetryPolicy",
]

GUARDIANS_BATCH_MAX: Final = 500
"""Guardian ids per `guardians_batch` call (the API's own limit)."""

M = TypeVar("M", bound=BaseModel)

DEFAULT_TIMEOUT: Final = httpx.Timeout(connect=1.0, read=4.0, write=2.0, pool=1.0)
"""Per-attempt timeouts; each phase is further cut down to what the deadline leaves."""

DEFAULT_LIMITS: Final = httpx.Limits(
    max_connections=100, max_keepalive_connections=20, keepalive_expiry=30.0
)


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


class MassarClient(Caller):
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

    # --- alerts: guardians by id, and the change feed ----------------------------------

    async def guardians_batch(
        self,
        guardian_ids: Sequence[str],
        *,
        deadline: Deadline | float | None = None,
        request_id: str | None = None,
    ) -> tuple[GuardianContact, ...]:
        """`POST /guardians/batch`: up to 500 guardians with their registered phones, in
        the order asked (unknown ids are left out). A pure read, so it is retried."""
        if not 0 < len(guardian_ids) <= GUARDIANS_BATCH_MAX:
            raise ValueError(f"between 1 and {GUARDIANS_BATCH_MAX} guardian ids per call")
        page = await self._call(
            GUARDIANS_BATCH,
            json={"ids": list(guardian_ids)},
            deadline=deadline,
            request_id=request_id,
        )
        return page.items

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
