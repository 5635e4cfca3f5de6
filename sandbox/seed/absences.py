"""Absences: random absences and lateness, the demo pupils' fixed ones, and their events."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from sandbox import demo, ids
from sandbox.seed.base import Context, ts

_SLOTS = ["08:30", "09:30", "10:30", "14:30", "15:30"]
_REASONS = ["medical"] * 6 + ["family"] * 3 + ["administrative", "other"]


def _event(at: str, name: str, sid: int, gids: str, aid: int, **fields: Any) -> tuple[Any, ...]:
    return (
        at,
        name,
        sid,
        gids,
        json.dumps({"absence_id": ids.encode("abs", aid), **fields}),
    )


def random_absences(
    getbits: Callable[[int], int],
    ctx: Context,
    sid: int,
    class_id: int,
    plan_now: list[tuple[str, int, int, float]],
    out: list[tuple[Any, ...]],
    events: list[tuple[Any, ...]],
    gids: str,
) -> None:
    """A pupil's absences this school year, up to the clock."""
    school_days = ctx.school_days
    n_days = len(school_days)
    if not n_days:
        return
    cut = ctx.event_cut
    now_date = ctx.now.date()
    n_subj = len(plan_now)
    n_abs = (0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 5, 7)[getbits(8) % 12]
    for a in range(n_abs):
        r = getbits(48)
        day = school_days[(r & 0xFFFF) % n_days]
        start = _SLOTS[(r >> 16) % 5]
        late = (r >> 20) & 7 == 0
        hours = 1 if late or (r >> 23) & 1 else 2
        subj = None if late else plan_now[(r >> 24) % n_subj][0]
        recorded = ts(day, start, 10 + (r >> 28) % 50)
        old = (now_date - day).days > 14
        s = (r >> 34) % 20
        justified_at = reason = None
        if (old and s < 9) or (not old and s < 2):
            status = "justified"
            reason = _REASONS[(r >> 40) % 11]
            jd = min(day + timedelta(days=1 + (r >> 44) % 5), now_date)
            justified_at = ts(jd, "11:00", (r >> 28) % 50)
        elif old and s >= 18:
            status = "rejected"
        else:
            status = "unjustified"
        aid = sid * 16 + a
        end = f"{int(start[:2]) + hours:02d}{start[2:]}"
        kind = "late" if late else "absence"
        out.append(
            (
                aid,
                sid,
                class_id,
                day.isoformat(),
                start,
                end,
                hours,
                subj,
                kind,
                status,
                reason,
                recorded,
                justified_at,
            )
        )
        fields = {"date": day.isoformat(), "hours": hours, "kind": kind}
        if recorded >= cut:
            events.append(
                _event(recorded, "absence.created", sid, gids, aid, **fields, status="unjustified")
            )
        if justified_at is not None and justified_at >= cut:
            events.append(
                _event(justified_at, "absence.updated", sid, gids, aid, **fields, status=status)
            )


def demo_absences(
    sid: int,
    class_id: int,
    ctx: Context,
    out: list[tuple[Any, ...]],
    events: list[tuple[Any, ...]],
    gids: str,
) -> None:
    """A demo pupil's fixed absences (`demo.ABSENCES`) up to the clock."""
    for a, (s, day, start, hours, subj, kind, status, reason) in enumerate(demo.ABSENCES):
        if s != sid or date.fromisoformat(day) > ctx.now.date():
            continue
        aid = sid * 16 + a
        recorded = ts(date.fromisoformat(day), start, 20)
        justified_at = (
            ts(date.fromisoformat(day) + timedelta(days=2), "11:00")
            if status == "justified"
            else None
        )
        end = f"{int(start[:2]) + hours:02d}{start[2:]}"
        out.append(
            (
                aid,
                sid,
                class_id,
                day,
                start,
                end,
                hours,
                subj,
                kind,
                status,
                reason,
                recorded,
                justified_at,
            )
        )
        if recorded >= ctx.event_cut:
            events.append(
                _event(
                    recorded,
                    "absence.created",
                    sid,
                    gids,
                    aid,
                    date=day,
                    hours=hours,
                    kind=kind,
                    status="unjustified",
                )
            )
