"""The async client of the Massar backend API (DOMAIN.md §8)."""

from __future__ import annotations

import random
import time
from types import TracebackType
from typing import Final, Self

import anyio
import httpx

from .deadline import Clock
from .endpoints.feed import GUARDIANS_BATCH_MAX, FeedCalls
from .endpoints.guardians import GuardianCalls
from .endpoints.students import StudentCalls
from .policy import RetryPolicy, Sleep

__all__ = [
    "DEFAULT_LIMITS",
    "DEFAULT_TIMEOUT",
    "GUARDIANS_BATCH_MAX",
    "Endpoints",
    "MassarClient",
]

DEFAULT_TIMEOUT: Final = httpx.Timeout(connect=1.0, read=4.0, write=2.0, pool=1.0)
"""Per-attempt timeouts; each phase is further cut down to what the deadline leaves."""

DEFAULT_LIMITS: Final = httpx.Limits(
    max_connections=100, max_keepalive_connections=20, keepalive_expiry=30.0
)


class Endpoints(GuardianCalls, StudentCalls, FeedCalls):
    """Every call of the API, one method per endpoint, grouped by resource (`endpoints/`).

    `MassarClient` sends them; the gateway's resilient facade serves the same methods, with the
    same signatures, from this one list (`gateway.resilience.backend`). A new resource's mixin
    goes here.
    """


class MassarClient(Endpoints):
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
