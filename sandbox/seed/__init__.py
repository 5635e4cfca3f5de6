"""Deterministic synthetic data: `seed_database(url, students=N, seed=S, now=T)`.

Everything comes from `seed` and `now`: a plan (schools, classes, headcounts) from one RNG, then one
RNG per school generates that school's students, guardians, marks, absences and applications.
Integer keys are derived from the plan (guardians of student s are 3s..3s+2, their phones 2g and
2g+1, and so on), so every school is generated independently and ids never collide. Rows are plain
tuples written in big batches (sqlite3 `executemany`, PostgreSQL `COPY`); secondary indexes are
built at the end.

One module per domain: `plan` (schools and classes), `people` (families and students), `marks`,
`absences`, `enrolment` (applications), `reference` (regions, levels, subjects, demo families),
`school` (one school's generation, in the RNG's order), `writer` (bulk inserts).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from sandbox import catalog, db
from sandbox.seed.base import EVENT_WINDOW, FLUSH_ROWS, Context, iso_now
from sandbox.seed.marks import SUBJECT_PLAN, cc_marks, semester_average
from sandbox.seed.plan import make_plan
from sandbox.seed.reference import reference_rows
from sandbox.seed.school import generate_school
from sandbox.seed.writer import Writer

__all__ = ["SUBJECT_PLAN", "cc_marks", "school_days", "seed_database", "semester_average"]

log = logging.getLogger("sandbox.seed")


def school_days(now: datetime) -> list[date]:
    day, end = date(2025, 9, 8), now.date()
    out = []
    while day <= end and day <= date(2026, 6, 30):
        if day.weekday() < 5:
            out.append(day)
        day += timedelta(days=1)
    return out


def seed_database(
    engine: Engine,
    *,
    students: int,
    seed: int,
    now: datetime,
    schema: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """Drop, create and fill every table; returns row counts per table."""
    started = time.monotonic()
    say = progress or (lambda _msg: None)
    plan = make_plan(students, seed)
    db.create_schema(engine, schema)
    ctx = Context(
        seed=seed,
        now=now,
        now_iso=iso_now(now),
        event_cut=iso_now(now - EVENT_WINDOW),
        school_days=school_days(now),
        primary_school_ids=[s.id for s in plan if s.cycle == "primaire"],
        province_names=[(p[1], p[2]) for p in catalog.PROVINCES],
        birth_dates={},
    )
    writer = Writer(engine)
    try:
        rows = reference_rows(plan)
        events: list[tuple[Any, ...]] = []
        pending = 0
        for school in plan:
            generate_school(school, ctx, rows, events)
            pending = len(rows["cc_mark"])
            if pending >= FLUSH_ROWS:
                writer.write(rows)
                done = writer.count["student"]
                say(f"{done:,} students ({time.monotonic() - started:.0f}s)")
        events.sort(key=lambda e: (e[0], e[1], e[2] or 0))
        rows["change_event"].extend(
            (seq, e[1], e[0], e[2], e[3], e[4]) for seq, e in enumerate(events, 1)
        )
        rows["sandbox_meta"].extend(
            [("seed", str(seed)), ("students", str(students)), ("now", ctx.now_iso)]
        )
        writer.write(rows)
        say(
            f"{writer.count['student']:,} students loaded "
            f"({time.monotonic() - started:.0f}s); building indexes"
        )
    finally:
        writer.close()
    db.create_indexes(engine)
    with engine.begin() as conn:
        conn.execute(sa.insert(db.sandbox_meta).values(key="complete", value=iso_now(now)))
    say(f"done in {time.monotonic() - started:.0f}s")
    counts = dict(writer.count)
    log.info(
        "seeded students=%d seconds=%.1f", counts.get("student", 0), time.monotonic() - started
    )
    return counts
