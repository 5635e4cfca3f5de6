"""What the client and its call machinery share: the retry policy and the sleep they wait with."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

__all__ = ["RetryPolicy"]

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
