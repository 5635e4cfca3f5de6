"""The simulated clock: frozen at `SANDBOX_NOW` until `POST /_sandbox/clock` moves it."""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta

from sandbox import catalog
from sandbox.settings import MOROCCO


class SandboxClock:
    def __init__(self, now: datetime) -> None:
        self._now = now.astimezone(MOROCCO)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        return self._now

    def set(self, now: datetime) -> None:
        with self._lock:
            self._now = (now if now.tzinfo else now.replace(tzinfo=MOROCCO)).astimezone(MOROCCO)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now = self._now + timedelta(seconds=seconds)

    def iso(self) -> str:
        return iso(self._now)


def iso(moment: datetime) -> str:
    """ISO 8601 at +01:00, the one text form stored and returned."""
    return moment.astimezone(MOROCCO).strftime("%Y-%m-%dT%H:%M:%S+01:00")


def school_year_of(day: date) -> int:
    """Start year of the school year containing `day` (September to August)."""
    return day.year if day.month >= 9 else day.year - 1


def semester_of(day: date) -> int:
    start = school_year_of(day)
    s1_end = next(
        (date.fromisoformat(y[3]) for y in catalog.SCHOOL_YEARS if y[0] == start),
        date(start + 1, 1, 31),
    )
    return 1 if day <= s1_end else 2
