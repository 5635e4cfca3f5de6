"""A time budget shared by the backend calls of one user turn."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["Clock", "Deadline"]

Clock = Callable[[], float]
"""A monotonic clock in seconds, `time.monotonic` unless a test passes its own."""


@dataclass(frozen=True, slots=True)
class Deadline:
    """The instant by which an answer is needed, on a monotonic clock.

    The gateway creates one per user turn (``Deadline.after(2.0)``) and passes it to each
    backend call of that turn, so retries of the first call cannot eat the second's time.
    """

    expires_at: float
    clock: Clock = field(default=time.monotonic, repr=False, compare=False)

    @classmethod
    def after(cls, seconds: float, *, clock: Clock = time.monotonic) -> Deadline:
        """A deadline `seconds` from now."""
        return cls(clock() + seconds, clock)

    def remaining(self) -> float:
        """Seconds left, never negative."""
        return max(0.0, self.expires_at - self.clock())

    @property
    def expired(self) -> bool:
        return self.remaining() <= 0.0
