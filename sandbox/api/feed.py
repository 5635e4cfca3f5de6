"""The change feed for notifications, and the service's meta (DOMAIN §8)."""

from __future__ import annotations

import json
from typing import Annotated

import sqlalchemy as sa
from fastapi import Query, Request
from fastapi.responses import Response

from sandbox import catalog, db, ids
from sandbox.api.common import (
    COMMON,
    EVENT_TYPES,
    FEED_WINDOW,
    api_router,
)
from sandbox.api.deps import (
    Clock,
    Conn,
)
from sandbox.clock import iso, school_year_of, semester_of
from sandbox.problems import ProblemError, responses
from sandbox.schemas import (
    ChangeEvent,
    ChangesHead,
    ChangesResponse,
    Meta,
    RunningTotals,
)
from sandbox.service import TOTALS_KEY

router = api_router()


# ---- change feed ---------------------------------------------------------------------------------


def _parse_feed_cursor(cursor: str) -> int:
    if not (cursor.startswith("c_") and cursor[2:].isdigit() and len(cursor) <= 22):
        raise ProblemError(400, "invalid-request", "The cursor is not valid.")
    return int(cursor[2:])


def feed_cursor(seq: int) -> str:
    return f"c_{seq:09d}"


@router.get(
    "/changes",
    response_model=ChangesResponse,
    responses=responses(*COMMON, 410),
    summary="Change feed for notifications (at-least-once, dedupe on `id`)",
    description="Without a cursor, starts at the oldest event still kept (14 days). A cursor older "
    "than the window gets 410 `cursor-expired`: resync from `/changes/head`. Absence events "
    "carry the child's running `totals` after the change (the seed's history does not).",
)
def changes(
    request: Request,
    conn: Conn,
    clock: Clock,
    cursor: Annotated[str | None, Query(max_length=22, examples=["c_000000120"])] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    types: Annotated[
        str | None, Query(max_length=300, examples=["absence.created,grade.published"])
    ] = None,
) -> Response:
    ce, s = db.change_event, db.student
    wanted = None
    if types:
        wanted = [t.strip() for t in types.split(",") if t.strip()]
        if not wanted or any(t not in EVENT_TYPES for t in wanted):
            raise ProblemError(400, "invalid-request", "`types` lists an unknown event type.")
    cut = iso(clock.now() - FEED_WINDOW)
    head = conn.execute(sa.select(sa.func.coalesce(sa.func.max(ce.c.seq), 0))).scalar_one()
    first_kept = conn.execute(
        sa.select(sa.func.min(ce.c.seq)).where(ce.c.occurred_at >= cut)
    ).scalar_one()
    if cursor is None:
        after = (first_kept - 1) if first_kept is not None else head
    else:
        after = _parse_feed_cursor(cursor)
        if after > head:
            raise ProblemError(400, "invalid-request", "The cursor is ahead of the feed.")
        oldest_needed = first_kept if first_kept is not None else head + 1
        if after + 1 < oldest_needed:
            raise ProblemError(
                410, "cursor-expired", "The cursor is older than the 14-day feed window."
            )
    query = (
        sa.select(ce, s.c.first_name_fr, s.c.first_name_ar)
        .outerjoin(s, s.c.id == ce.c.student_id)
        .where(ce.c.seq > after)
        .order_by(ce.c.seq)
        .limit(limit + 1)
    )
    if wanted:
        query = query.where(ce.c.type.in_(wanted))
    rows = conn.execute(query).all()
    more = len(rows) > limit
    rows = rows[:limit]
    items = [_event(r) for r in rows]
    last = rows[-1].seq if more else max(head, rows[-1].seq if rows else after)
    out = ChangesResponse(items=items, next_cursor=feed_cursor(last), has_more=more)
    return Response(
        out.model_dump_json(), media_type="application/json", headers={"Cache-Control": "no-store"}
    )


def _event(r: sa.Row) -> ChangeEvent:  # type: ignore[type-arg]
    data = json.loads(r.data or "{}")
    # An absence event's running totals are stored with its data (`service.emit`) and served
    # beside it, as their own field of the contract.
    totals = data.pop(TOTALS_KEY, None)
    return ChangeEvent(
        id=f"evt_{r.seq:09d}",
        type=r.type,
        occurred_at=r.occurred_at,
        student_id=ids.encode("stu", r.student_id) if r.student_id else None,
        student_first_name_fr=r.first_name_fr,
        student_first_name_ar=r.first_name_ar,
        guardian_ids=json.loads(r.guardian_ids or "[]"),
        data=data,
        totals=RunningTotals(**totals) if isinstance(totals, dict) else None,
    )


@router.get(
    "/changes/head",
    response_model=ChangesHead,
    responses=responses(*COMMON),
    summary="Current feed cursor",
)
def changes_head(conn: Conn) -> ChangesHead:
    head = conn.execute(
        sa.select(sa.func.coalesce(sa.func.max(db.change_event.c.seq), 0))
    ).scalar_one()
    return ChangesHead(cursor=feed_cursor(head))


@router.get(
    "/meta",
    response_model=Meta,
    responses=responses(*COMMON),
    summary="School year, semester, clock",
)
def meta(clock: Clock) -> Meta:
    now = clock.now()
    return Meta(
        api_version="1",
        school_year=catalog.year_code(school_year_of(now.date())),
        semester=semester_of(now.date()),
        now=iso(now),
    )
