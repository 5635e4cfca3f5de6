"""Message records in SQL: what the outbox sent, to whom (hashed), and what became of it.

A record's status only moves forward:

    queued (0) -> sent (1) -> delivered (2) -> read (3)
                         └──> failed (2)

Workers write outcomes in batches (one transaction per batch); provider status callbacks
move a record by its provider id (Twilio), or by its own id when the provider's report names
ours (Kannel's `dlr-url`). Bodies (`text`, `options`) are kept for
`GATEWAY_MESSAGE_BODY_RETENTION_H` hours: reads hide older ones and `purge_bodies` empties
them; records themselves (delivery records) are deleted after `RECORD_RETENTION` (90 days,
DOMAIN.md §6). Calls run in a worker thread so the event loop never waits on the database.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from functools import partial
from typing import Any, Generic, Protocol, TypeVar

import anyio.to_thread
import sqlalchemy as sa

from gateway.dialogs.model import Option
from gateway.state.errors import translated
from gateway.state.keyring import KeyRing
from gateway.state.outbox.priority import Priority
from gateway.state.schema import dialect_insert, outbound_message

__all__ = ["RANK", "MessageRecords", "Outcome", "Recorded", "mask_address"]

RANK = {"queued": 0, "sent": 1, "delivered": 2, "failed": 2, "read": 3}
RECORD_RETENTION = timedelta(days=90)  # delivery records (DOMAIN.md §6)


def mask_address(address: str) -> str:
    """`+212600000001` -> `+212*******01`; enough for an operator to recognise, no more."""
    if len(address) <= 6:
        return "*" * len(address)
    head = 4 if address.startswith("+") else address.find(":") + 1 if ":" in address else 2
    return address[:head] + "*" * (len(address) - head - 2) + address[-2:]


class Recorded(Protocol):
    """A message as its record reads it: `gateway.outbox.model.OutMessage`'s fields (named
    here so this layer imports no outbox module)."""

    @property
    def id(self) -> str: ...
    @property
    def channel(self) -> Enum: ...
    @property
    def to(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def options(self) -> Sequence[Option]: ...
    @property
    def kind(self) -> Enum: ...
    @property
    def priority(self) -> Priority: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def attempt(self) -> int: ...
    @property
    def student(self) -> str | None: ...


M = TypeVar("M", bound=Recorded)


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome(Generic[M]):
    """What happened to one message this time (the record keeps the furthest)."""

    message: M
    status: str  # a key of RANK
    at: datetime
    sender: str | None = None
    provider_id: str | None = None
    error: str | None = None
    text: str | None = None  # the text as sent (a follow-up's is composed late)
    template: str | None = None  # the WhatsApp template it went out as (`name.lang`)


@translated
class MessageRecords:
    def __init__(
        self, engine: sa.Engine, *, key_secret: bytes | KeyRing, retention_h: int = 72
    ) -> None:
        self.engine = engine
        self._ring = KeyRing.of(key_secret)
        self.retention = timedelta(hours=retention_h)

    # --- writes -----------------------------------------------------------------------------

    async def write(self, outcomes: Sequence[Outcome[Any]], idem_h: Sequence[str]) -> None:
        """Upsert each outcome's record, forward only, in one transaction."""
        if outcomes:
            await anyio.to_thread.run_sync(partial(self._write, list(outcomes), list(idem_h)))

    def _write(self, outcomes: list[Outcome[Any]], idem_h: list[str]) -> None:
        rows = [self._row(o, h) for o, h in zip(outcomes, idem_h, strict=True)]
        table = outbound_message
        insert = dialect_insert(self.engine)(table)
        excluded = insert.excluded
        statement = insert.on_conflict_do_update(
            index_elements=[table.c.id],
            set_={
                "status": excluded.status,
                "status_rank": excluded.status_rank,
                "sender": sa.func.coalesce(excluded.sender, table.c.sender),
                "provider_id": sa.func.coalesce(excluded.provider_id, table.c.provider_id),
                "error": excluded.error,
                "attempts": excluded.attempts,
                "text": sa.func.coalesce(excluded.text, table.c.text),
                "options": sa.func.coalesce(excluded.options, table.c.options),
                "updated_at": excluded.updated_at,
                "sent_at": sa.func.coalesce(table.c.sent_at, excluded.sent_at),
                "student_id": sa.func.coalesce(excluded.student_id, table.c.student_id),
                "template": sa.func.coalesce(excluded.template, table.c.template),
            },
            # Forward only; a queued record may still be rewritten (attempts, late text).
            where=(table.c.status_rank < excluded.status_rank) | (table.c.status_rank == 0),
        )
        with self.engine.begin() as conn:
            conn.execute(statement, rows)  # executemany: each row its own ON CONFLICT

    def _row(self, outcome: Outcome[Any], idem_h: str) -> dict[str, Any]:
        msg = outcome.message
        text = outcome.text if outcome.text is not None else (msg.text or None)
        return {
            "id": msg.id,
            "idem_h": idem_h,
            "channel": msg.channel.value,
            "to_h": self._ring.address_h(msg.to),
            "key_gen": self._ring.gen,
            "to_masked": mask_address(msg.to),
            "kind": msg.kind.value,
            "priority": int(msg.priority),
            "status": outcome.status,
            "status_rank": RANK[outcome.status],
            "sender": outcome.sender,
            "provider_id": outcome.provider_id,
            "error": outcome.error,
            "attempts": msg.attempt + (0 if outcome.status == "queued" else 1),
            "text": text,
            "options": json.dumps(
                [{"id": o.id, "label": o.label, "key": o.key} for o in msg.options]
            )
            if msg.options
            else None,
            "created_at": msg.created_at,
            "updated_at": outcome.at,
            "sent_at": outcome.at if outcome.status == "sent" else None,
            "student_id": msg.student,
            "template": outcome.template,
        }

    async def status_callback(
        self, provider_id: str, status: str, error: str | None, at: datetime
    ) -> bool:
        """Move the record sent as `provider_id` to `status` if that is forward; True if so."""
        return await anyio.to_thread.run_sync(
            partial(self._status_callback, provider_id, status, error, at)
        )

    def _status_callback(
        self, provider_id: str, status: str, error: str | None, at: datetime
    ) -> bool:
        table = outbound_message
        statement = (
            sa.update(table)
            .where(table.c.provider_id == provider_id, table.c.status_rank < RANK[status])
            .values(status=status, status_rank=RANK[status], error=error, updated_at=at)
        )
        with self.engine.begin() as conn:
            return conn.execute(statement).rowcount > 0

    async def own_status(
        self, message_id: str, status: str, error: str | None, at: datetime
    ) -> bool | None:
        """Move record `message_id` to `status` if that is forward: True if it moved, False if
        it stays (already there or further), None if there is no such record (yet)."""
        return await anyio.to_thread.run_sync(
            partial(self._own_status, message_id, status, error, at)
        )

    def _own_status(
        self, message_id: str, status: str, error: str | None, at: datetime
    ) -> bool | None:
        table = outbound_message
        statement = (
            sa.update(table)
            .where(table.c.id == message_id, table.c.status_rank < RANK[status])
            .values(status=status, status_rank=RANK[status], error=error, updated_at=at)
        )
        with self.engine.begin() as conn:
            if conn.execute(statement).rowcount > 0:
                return True
            found = conn.execute(sa.select(table.c.id).where(table.c.id == message_id)).first()
        return False if found is not None else None

    async def purge_bodies(self, now: datetime | None = None) -> int:
        """Empty the bodies older than the retention, delete the records older than 90 days;
        how many records were emptied."""
        now = now or datetime.now(UTC)
        return await anyio.to_thread.run_sync(
            partial(self._purge, now - self.retention, now - RECORD_RETENTION)
        )

    def _purge(self, cutoff: datetime, records_cutoff: datetime) -> int:
        table = outbound_message
        statement = (
            sa.update(table)
            .where(
                table.c.created_at < cutoff,
                (table.c.text.is_not(None)) | (table.c.options.is_not(None)),
            )
            .values(text=None, options=None)
        )
        with self.engine.begin() as conn:
            conn.execute(sa.delete(table).where(table.c.created_at < records_cutoff))
            return conn.execute(statement).rowcount

    # --- reads ------------------------------------------------------------------------------

    async def for_address(
        self, address: str, *, limit: int = 50, now: datetime | None = None
    ) -> list[dict[str, Any]]:
        """One address's messages, newest first, bodies hidden past the retention."""
        cutoff = (now or datetime.now(UTC)) - self.retention
        rows = await anyio.to_thread.run_sync(
            partial(self._for_address, self._ring.address_hs(address), limit)
        )
        return [_item(row, address, cutoff) for row in rows]

    def _for_address(self, hashes: list[str], limit: int) -> list[sa.Row[Any]]:
        table = outbound_message
        query = (
            sa.select(table)
            .where(table.c.to_h.in_(hashes))
            .order_by(table.c.created_at.desc(), table.c.id.desc())
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return list(conn.execute(query))

    async def get(self, message_id: str) -> dict[str, Any] | None:
        """One record as stored (tests, operators)."""
        return await anyio.to_thread.run_sync(partial(self._get, message_id))

    def _get(self, message_id: str) -> dict[str, Any] | None:
        query = sa.select(outbound_message).where(outbound_message.c.id == message_id)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return dict(row._mapping) if row is not None else None


def _item(row: sa.Row[Any], address: str, cutoff: datetime) -> dict[str, Any]:
    kept = row.created_at >= cutoff
    return {
        "id": row.id,
        "channel": row.channel,
        "to": address,
        "kind": row.kind,
        "text": row.text if kept else None,
        "options": json.loads(row.options) if kept and row.options else [],
        "status": row.status,
        "error": row.error,
        "student": row.student_id,
        "template": row.template,  # the WhatsApp template it went out as; None: its text
        "created_at": row.created_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
    }
