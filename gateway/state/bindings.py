"""Durable bindings: a phone proved (Massar code + child's birth date) it may see a student.

One row per (phone, student) in `phone_binding`, keyed by HMAC-SHA256 of the E.164 phone: no
phone number is stored. `bound_at` is kept in UTC and always read back timezone-aware (SQLite
drops the zone). Whether a binding is still fresh (180 days) is the engine's decision.
Calls run in a worker thread so the event loop never waits on the database.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial

import anyio.to_thread
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from gateway.state.errors import translated
from gateway.state.keyring import KeyRing
from gateway.state.schema import metadata, phone_binding

__all__ = ["SqlBindings", "metadata", "phone_binding"]


@translated
class SqlBindings:
    """The `Bindings` port on SQLAlchemy (SQLite or PostgreSQL)."""

    def __init__(self, engine: sa.Engine, *, key_secret: bytes | KeyRing) -> None:
        self.engine = engine
        self._ring = KeyRing.of(key_secret)

    def phone_h(self, phone: str) -> str:
        """The stored form of an E.164 phone: HMAC-SHA256 (chained over the keys), hex."""
        return self._ring.address_h(phone)

    async def bound_since(self, phone: str) -> dict[str, datetime]:
        """Each student this phone is bound to, with when it last proved it (under every key
        generation a rekey may not have moved yet)."""
        hashes = self._ring.address_hs(phone)
        return await anyio.to_thread.run_sync(partial(self._bound_since, hashes))

    async def bind(self, phone: str, student_id: str, at: datetime) -> None:
        """Record (or refresh to `at`) that this phone proved it may see `student_id`."""
        if at.tzinfo is None:
            raise ValueError("a binding time must be timezone-aware")
        hashes = self._ring.address_hs(phone)
        await anyio.to_thread.run_sync(partial(self._bind, hashes, student_id, at))

    async def revoke(self, phone: str, student_id: str) -> bool:
        """Forget that this phone proved it may see `student_id` (console, issue #16)."""
        table = phone_binding
        statement = sa.delete(table).where(
            table.c.phone_h.in_(self._ring.address_hs(phone)), table.c.student_id == student_id
        )

        def run() -> bool:
            with self.engine.begin() as conn:
                return conn.execute(statement).rowcount > 0

        return await anyio.to_thread.run_sync(run)

    def _bound_since(self, hashes: list[str]) -> dict[str, datetime]:
        query = sa.select(phone_binding.c.student_id, phone_binding.c.bound_at).where(
            phone_binding.c.phone_h.in_(hashes)
        )
        found: dict[str, datetime] = {}
        with self.engine.connect() as conn:
            for row in conn.execute(query):
                found[row.student_id] = max(row.bound_at, found.get(row.student_id, row.bound_at))
        return found

    def _bind(self, hashes: list[str], student_id: str, at: datetime) -> None:
        phone_h, older = hashes[0], hashes[1:]
        values = {
            "phone_h": phone_h,
            "student_id": student_id,
            "bound_at": at,
            "key_gen": self._ring.gen,
        }
        dialect = self.engine.dialect.name
        with self.engine.begin() as conn:
            if older:  # the binding moves to the newest key now (the rekey would skip it)
                conn.execute(
                    sa.delete(phone_binding).where(
                        phone_binding.c.phone_h.in_(older),
                        phone_binding.c.student_id == student_id,
                    )
                )
            if dialect in ("sqlite", "postgresql"):
                insert = (sqlite.insert if dialect == "sqlite" else postgresql.insert)(
                    phone_binding
                )
                conn.execute(
                    insert.values(**values).on_conflict_do_update(
                        index_elements=[phone_binding.c.phone_h, phone_binding.c.student_id],
                        set_={"bound_at": insert.excluded.bound_at},
                    )
                )
                return
            # Other databases: update, else insert, in one transaction.
            updated = conn.execute(
                sa.update(phone_binding)
                .where(
                    phone_binding.c.phone_h == phone_h,
                    phone_binding.c.student_id == student_id,
                )
                .values(bound_at=at)
            )
            if updated.rowcount == 0:
                conn.execute(sa.insert(phone_binding).values(**values))
