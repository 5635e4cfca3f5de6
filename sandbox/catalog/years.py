"""School years and mentions."""

from __future__ import annotations

# School years: (start year, code, start, s1_end, end)
SCHOOL_YEARS = [
    (2024, "2024-2025", "2024-09-09", "2025-01-31", "2025-06-30"),
    (2025, "2025-2026", "2025-09-08", "2026-01-30", "2026-06-30"),
]
CURRENT_YEAR = 2025

MENTIONS = [(16.0, "tres_bien"), (14.0, "bien"), (12.0, "assez_bien"), (10.0, "passable")]


def mention(average: float | None) -> str | None:
    """The mention for an average out of 20 (DOMAIN §2)."""
    if average is None:
        return None
    for floor, name in MENTIONS:
        if average >= floor:
            return name
    return "insuffisant"


def year_code(start: int) -> str:
    return f"{start}-{start + 1}"


def parse_year(code: str) -> int | None:
    """`2025-2026` -> 2025; None when malformed or inconsistent."""
    if len(code) != 9 or code[4] != "-" or not (code[:4].isdigit() and code[5:].isdigit()):
        return None
    start, end = int(code[:4]), int(code[5:])
    return start if end == start + 1 else None
