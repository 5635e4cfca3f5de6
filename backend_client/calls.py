"""How one call of `MassarClient` goes: headers, a deadline cut into per-attempt timeouts,
retries of idempotent reads (tenacity), and replies mapped to the error tree (`errors`)."""

from __future__ import annotations

import random
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Final, TypeVar

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
from .policy import RetryPolicy, Sleep
from .routes import Route

__all__: list[str] = []

M = TypeVar("M", bound=BaseModel)


_REJECTIONS: Final[dict[int, type[BackendRejected]]] = {
    400: InvalidRequest,
    401: Unauthorized,
    403: NotLinked,
    404: NotFound,
    410: CursorExpired,
}
_RETRYABLE_5XX: Final = frozenset({502, 503, 504})


class Caller:
    """The machinery `MassarClient` inherits; its state is set by `MassarClient.__init__`."""

    _base_url: str
    _token: str
    _timeout: httpx.Timeout
    _http: httpx.AsyncClient
    _default_deadline: float
    _retry: RetryPolicy
    _rng: random.Random
    _sleep: Sleep
    _clock: Clock

    def deadline(self, seconds: float | None = None) -> Deadline:
        """A deadline on this client's clock, `default_deadline` from now unless told."""
        return Deadline.after(
            self._default_deadline if seconds is None else seconds, clock=self._clock
        )

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
