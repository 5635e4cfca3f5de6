"""How each call may be repeated and reused: the retry policy and the sleep the call machinery
waits with, which calls the backend counts, and how long each read's answer stays good.

`CACHED` and `SENT_ONCE` are keyed by the name of the client's method. The gateway's resilient
facade (`gateway.resilience.backend`) reads them: a method in `CACHED` is served from its cache,
one in `SENT_ONCE` is never cached, shared or queued for a repeat, and any other method is an
uncached read behind the breaker and the concurrency slots.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Final

__all__ = ["CACHED", "SENT_ONCE", "CachePolicy", "RetryPolicy"]

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


@dataclass(frozen=True, slots=True, kw_only=True)
class CachePolicy:
    """How long one read's answer may be reused, and what it depends on.

    `kind` names the data in cache keys and metrics; `ttl_s` is the API's
    ``Cache-Control: max-age`` hint (DOMAIN.md §8), the fresh TTL unless the gateway's settings
    say otherwise. `key` lists the method's parameters the answer
    depends on, in key order; None means every parameter but `deadline` and `request_id`, in
    the method's order. Any other parameter given a value other than its default is added to
    the key after them (so a call shape never shares another's entry). `per_student`: the first
    key parameter is a student id, and the entry is dropped when the change feed says that
    student changed.
    """

    kind: str
    ttl_s: int
    key: tuple[str, ...] | None = None
    per_student: bool = False


CACHED: Final[Mapping[str, CachePolicy]] = {
    "lookup_guardian": CachePolicy(kind="guardian", ttl_s=3600),
    "grades": CachePolicy(kind="grades", ttl_s=900, per_student=True),
    "absences": CachePolicy(
        kind="absences",
        ttl_s=300,
        # The key as it was spelled before `kind` and `cursor` could reach the cache.
        key=("sid", "on_behalf_of", "date_from", "date_to", "status", "limit"),
        per_student=True,
    ),
    "student_applications": CachePolicy(kind="enrolment", ttl_s=600, per_student=True),
    "meta": CachePolicy(kind="meta", ttl_s=300),
}
"""The reads whose answers are cached, by method name."""

SENT_ONCE: Final = frozenset({"verify_student", "lookup_application"})
"""Methods whose route is not idempotent: the backend counts their failures towards a lockout,
so they are sent once, never cached or shared, and a turn that made one is never repeated."""
