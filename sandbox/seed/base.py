"""What the generators share: publication dates, the noise table, timestamps, the context."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

PUBLISHED = {
    (2024, 1): "2025-02-04T18:00:00+01:00",
    (2024, 2): "2025-07-01T18:00:00+01:00",
    (2025, 1): "2026-02-03T18:00:00+01:00",
}
YEAR_PUBLISHED = {2024: "2025-07-03T18:00:00+01:00"}
EVENT_WINDOW = timedelta(days=14)
FLUSH_ROWS = 250_000

# Marks are computed in quarter points (0..80 = 0..20) with a precomputed noise table.
QUARTERS = [q / 4 for q in range(81)]
_NOISE_RNG = random.Random(7)
NOISE = [_NOISE_RNG.gauss(0.0, 2.2) * 4 for _ in range(4096)]


def ts(d: date, hhmm: str, minutes: int = 0) -> str:
    """An ISO timestamp at +01:00."""
    h, m = int(hhmm[:2]), int(hhmm[3:]) + minutes
    h, m = h + m // 60, m % 60
    return f"{d.isoformat()}T{h:02d}:{m:02d}:00+01:00"


def iso_now(now: datetime) -> str:
    return now.strftime("%Y-%m-%dT%H:%M:%S+01:00")


@dataclass(slots=True)
class Context:
    seed: int
    now: datetime
    now_iso: str
    event_cut: str
    school_days: list[date]
    primary_school_ids: list[int]
    province_names: list[tuple[str, str]]
    birth_dates: dict[int, list[str]]


class Rows(defaultdict[str, list[tuple[Any, ...]]]):
    def __init__(self) -> None:
        super().__init__(list)
