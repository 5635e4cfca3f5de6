"""Every operator action, in `console_audit`: who, what, when, which phone (masked), why."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

import anyio.to_thread
import sqlalchemy as sa

from gateway.outbox.records import mask_address
from gateway.schema import console_audit

__all__ = ["AuditEntry", "AuditLog"]


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at: datetime
    operator: str
    action: str
    phone_masked: str | None
    reason: str | None
    detail: str | None


class AuditLog:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    async def write(
        self,
        operator: str,
        action: str,
        *,
        phone: str | None = None,
        reason: str | None = None,
        detail: str | None = None,
    ) -> None:
        """One line; the phone is stored masked only (`+212*******01`)."""
        row = {
            "at": datetime.now(UTC),
            "operator": operator[:64],
            "action": action[:32],
            "phone_masked": mask_address(phone) if phone else None,
            "reason": reason[:500] if reason else None,
            "detail": detail[:200] if detail else None,
        }
        await anyio.to_thread.run_sync(partial(self._write, row))

    def _write(self, row: dict[str, object]) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.insert(console_audit).values(**row))

    async def recent(self, limit: int = 100) -> list[AuditEntry]:
        return await anyio.to_thread.run_sync(partial(self._recent, limit))

    def _recent(self, limit: int) -> list[AuditEntry]:
        query = sa.select(console_audit).order_by(console_audit.c.id.desc()).limit(limit)
        with self.engine.connect() as conn:
            return [
                AuditEntry(
                    at=row.at,
                    operator=row.operator,
                    action=row.action,
                    phone_masked=row.phone_masked,
                    reason=row.reason,
                    detail=row.detail,
                )
                for row in conn.execute(query)
            ]
