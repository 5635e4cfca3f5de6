"""Quiet hours: alerts made at night wait for the morning (`GATEWAY_QUIET_HOURS`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = ["LOCAL_TZ", "QuietHours", "next_local"]

LOCAL_TZ = ZoneInfo("Africa/Casablanca")


@dataclass(frozen=True, slots=True)
class QuietHours:
    """From `start` to `end`, local time (`end` before `start` spans midnight)."""

    start: time
    end: time
    tz: ZoneInfo = LOCAL_TZ

    @classmethod
    def parse(cls, text: str) -> QuietHours | None:
        """`21:00-07:00`, or `none` (no quiet hours: None)."""
        value = text.strip().lower()
        if value in ("none", "off", ""):
            return None
        first, sep, second = value.partition("-")
        if not sep:
            raise ValueError("quiet hours look like 21:00-07:00, or none")
        start, end = time.fromisoformat(first.strip()), time.fromisoformat(second.strip())
        if start == end:
            raise ValueError("quiet hours must start and end at different times")
        return cls(start, end)

    def release_at(self, now: datetime) -> datetime | None:
        """None outside quiet hours; else when they end (an aware datetime)."""
        local = now.astimezone(self.tz)
        t = local.time()
        if self.start < self.end:
            quiet = self.start <= t < self.end
        else:
            quiet = t >= self.start or t < self.end
        if not quiet:
            return None
        day = local.date() if t < self.end else local.date() + timedelta(days=1)
        return datetime.combine(day, self.end, self.tz)


def next_local(now: datetime, at: time, tz: ZoneInfo = LOCAL_TZ) -> datetime:
    """The next `at` local time after `now` (a daily digest's hour)."""
    local = now.astimezone(tz)
    day = local.date() if local.time() < at else local.date() + timedelta(days=1)
    return datetime.combine(day, at, tz)
