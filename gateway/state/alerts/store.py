"""The alerts consumer's durable state in SQL: its cursor in the change feed, and the alerts
held back by quiet hours. A batch's holds and the cursor after it are written in one
transaction: a consumer killed before it commits reads the batch again (its messages are
deduplicated by their keys), and one killed after it never reads it again. Calls run in a
worker thread so the event loop never waits on the database. `Alert` and `Hold`, the values it
keeps, are defined here (`gateway.alerts.plan` makes them)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

import anyio.to_thread
import sqlalchemy as sa

from gateway.state.errors import translated
from gateway.state.keyring import KeyRing
from gateway.state.schema import alert_cursor, alert_held, dialect_insert

__all__ = ["Alert", "AlertStore", "Held", "Hold"]

FEED = "changes"  # the one feed this consumer reads (the row's name)


@dataclass(frozen=True, slots=True, kw_only=True)
class Alert:
    """One change worth telling guardians about."""

    event_id: str
    seq: int  # the event's place in the feed (evt_000000121 -> 121)
    kind: str  # "absence" | "marks" | "result" | "enrolment" (`gateway.alerts.plan.wanted`)
    student_id: str | None
    guardian_ids: tuple[str, ...]
    payload: Mapping[str, Any]  # what the text says: first names, day, hours, semester...

    @property
    def group(self) -> str:
        """What one message is about: the student's semester for marks, the year for a year
        result, else the event."""
        if self.kind == "marks":
            year, semester = self.payload.get("school_year"), self.payload.get("semester")
            return f"marks:{self.student_id}:{year}:{semester}"
        if self.kind == "result":  # a year result: one message per student and year
            return f"result:{self.student_id}:{self.payload.get('school_year')}"
        return self.event_id


@dataclass(frozen=True, slots=True, kw_only=True)
class Hold:
    """An alert for one phone kept until `release_at` (quiet hours, a daily digest, or the
    weekly summary: `batch` is "weekly")."""

    alert: Alert
    guardian_id: str
    phone: str
    release_at: datetime
    batch: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Held:
    """A held alert read back: for which guardian and which of their phones (hashed)."""

    row_id: int
    alert: Alert
    guardian_id: str
    phone_h: str
    release_at: datetime
    batch: str | None = None  # "weekly": news for the weekly summary


@translated
class AlertStore:
    def __init__(self, engine: sa.Engine, *, key_secret: bytes | KeyRing) -> None:
        self.engine = engine
        self._ring = KeyRing.of(key_secret)

    def phone_h(self, phone: str) -> str:
        return self._ring.address_h(phone)

    def phone_hs(self, phone: str) -> list[str]:
        """Every form a held alert may name `phone` by (a rekey under way: older ones too)."""
        return self._ring.address_hs(phone)

    async def cursor(self) -> str | None:
        return await anyio.to_thread.run_sync(self._cursor)

    def _cursor(self) -> str | None:
        query = sa.select(alert_cursor.c.cursor).where(alert_cursor.c.name == FEED)
        with self.engine.connect() as conn:
            return conn.execute(query).scalar_one_or_none()

    async def advance(self, cursor: str, holds: Sequence[Hold], at: datetime) -> None:
        """Keep `holds` (once each) and move the cursor to `cursor`, in one transaction."""
        await anyio.to_thread.run_sync(partial(self._advance, cursor, list(holds), at))

    def _advance(self, cursor: str, holds: list[Hold], at: datetime) -> None:
        insert = dialect_insert(self.engine)
        with self.engine.begin() as conn:
            if holds:
                rows = [
                    {
                        "event_id": h.alert.event_id,
                        "seq": h.alert.seq,
                        "guardian_id": h.guardian_id,
                        "phone_h": self.phone_h(h.phone),
                        "student_id": h.alert.student_id,
                        "kind": h.alert.kind,
                        "payload": json.dumps(dict(h.alert.payload), ensure_ascii=False),
                        "release_at": h.release_at,
                        "created_at": at,
                        "key_gen": self._ring.gen,
                        "batch": h.batch,
                    }
                    for h in holds
                ]
                conn.execute(insert(alert_held).on_conflict_do_nothing(), rows)
            row = {"name": FEED, "cursor": cursor, "updated_at": at}
            statement = insert(alert_cursor).values(**row)
            conn.execute(
                statement.on_conflict_do_update(
                    index_elements=[alert_cursor.c.name],
                    set_={"cursor": cursor, "updated_at": at},
                )
            )

    async def due(self, now: datetime, *, limit: int = 2000) -> list[Held]:
        """Held alerts whose time has come, in feed order."""
        return await anyio.to_thread.run_sync(partial(self._due, now, limit))

    def _due(self, now: datetime, limit: int) -> list[Held]:
        t = alert_held
        query = sa.select(t).where(t.c.release_at <= now).order_by(t.c.seq, t.c.id).limit(limit)
        with self.engine.connect() as conn:
            return [_held(row) for row in conn.execute(query)]

    async def forget(self, row_ids: Sequence[int]) -> None:
        """Drop held alerts once their messages are queued."""
        if row_ids:
            await anyio.to_thread.run_sync(partial(self._forget, list(row_ids)))

    def _forget(self, row_ids: list[int]) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.delete(alert_held).where(alert_held.c.id.in_(row_ids)))

    async def held_count(self) -> int:
        return await anyio.to_thread.run_sync(self._held_count)

    def _held_count(self) -> int:
        with self.engine.connect() as conn:
            return int(
                conn.execute(sa.select(sa.func.count()).select_from(alert_held)).scalar_one()
            )


def _held(row: sa.Row[Any]) -> Held:
    return Held(
        row_id=row.id,
        alert=Alert(
            event_id=row.event_id,
            seq=row.seq,
            kind=row.kind,
            student_id=row.student_id,
            guardian_ids=(row.guardian_id,),
            payload=json.loads(row.payload),
        ),
        guardian_id=row.guardian_id,
        phone_h=row.phone_h,
        release_at=row.release_at,
        batch=row.batch,
    )
