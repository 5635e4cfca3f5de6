"""Errors raised by the Massar backend client.

Callers catch at the level they can act on::

    BackendError                    status, code, request_id, retry_after, retryable
    ├── BackendUnavailable          5xx, connection refused or reset (retryable, except 500)
    │   └── BackendTimeout          an attempt timed out, or the caller's deadline is spent
    ├── BadResponse                 a reply that does not match the contract (not retryable)
    └── BackendRejected             4xx: the request itself was refused (not retryable)
        ├── InvalidRequest          400 invalid-request
        ├── Unauthorized            401 unauthorized (our bearer token)
        ├── NotLinked               403 not-linked (X-On-Behalf-Of guardian has no link)
        ├── NotFound                404 guardian-not-found, student-not-found,
        │                               application-not-found, not-published (see `code`)
        ├── CursorExpired           410 cursor-expired (resync from `changes_head()`)
        └── TooManyRequests         429, with `retry_after` in seconds when the server sent it
            ├── VerificationLocked  verification-locked: tell the caller to contact the school
            └── RateLimited         rate-limited: our deployment is throttled (retryable)

`retryable` says whether sending the *same idempotent request* again may succeed; the client
retries reads on it, and the gateway can use it to decide between "try again later" and a
definite answer. Exceptions carry fields, never sentences: no response body, phone, Massar code
or name ever ends up in `str(exc)`.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "BackendError",
    "BackendRejected",
    "BackendTimeout",
    "BackendUnavailable",
    "BadResponse",
    "CursorExpired",
    "InvalidRequest",
    "NotFound",
    "NotLinked",
    "RateLimited",
    "TooManyRequests",
    "Unauthorized",
    "VerificationLocked",
]


class BackendError(Exception):
    """Any failure of a call to the Massar backend."""

    retryable_by_default: ClassVar[bool] = False

    def __init__(
        self,
        *,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
        retryable: bool | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.request_id = request_id
        self.retry_after = retry_after
        self.retryable = self.retryable_by_default if retryable is None else retryable
        super().__init__(status, code)

    def __str__(self) -> str:
        return f"{type(self).__name__}(status={self.status}, code={self.code})"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, code={self.code!r}, "
            f"request_id={self.request_id!r}, retry_after={self.retry_after!r}, "
            f"retryable={self.retryable!r})"
        )


class BackendUnavailable(BackendError):
    """The backend could not answer: 5xx, connection refused, reset or broken."""

    retryable_by_default = True


class BackendTimeout(BackendUnavailable):
    """An attempt timed out, or the caller's deadline was spent before an answer."""


class BadResponse(BackendError):
    """A reply that does not follow the contract (malformed JSON, missing fields)."""


class BackendRejected(BackendError):
    """The backend refused the request (4xx); repeating it unchanged will not help."""


class InvalidRequest(BackendRejected):
    """400 invalid-request, e.g. an absence range longer than 366 days."""


class Unauthorized(BackendRejected):
    """401: the gateway's bearer token was refused."""


class NotLinked(BackendRejected):
    """403 not-linked: the guardian acting has no link to this student."""


class NotFound(BackendRejected):
    """404: `code` says what was missing, or `not-published` for unpublished marks."""


class CursorExpired(BackendRejected):
    """410 cursor-expired: the change-feed cursor is older than the feed's retention."""


class TooManyRequests(BackendRejected):
    """429: `retry_after` holds the server's hint in seconds, when it gave one."""


class VerificationLocked(TooManyRequests):
    """429 verification-locked: too many failed verifications for this phone or code."""


class RateLimited(TooManyRequests):
    """429 rate-limited: the gateway deployment is throttled; retry after `retry_after`."""

    retryable_by_default = True
