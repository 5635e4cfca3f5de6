"""Every operator action, in `console_audit`: who, what, when, which phone (masked), which
child (its opaque id, when the child's data was shown), why.

Lines are kept 12 months (DOMAIN.md §6): older ones are deleted as new ones are written.
Every field is stripped of control characters (and of the bidirectional overrides that can
make a line read otherwise than it is stored) before it is written. Lines a stranger can
cause (failed sign-ins, refused simulator numbers) are written at a bounded rate: past
`console_audit_anonymous_per_minute` in a minute, one line says how many were left out.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial

import anyio.to_thread
import sqlalchemy as sa
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from gateway.state.errors import translated, unavailable
from gateway.state.keys import Keys
from gateway.state.outbox.records import mask_address
from gateway.state.schema import console_audit

__all__ = ["AuditEntry", "AuditLog", "clean"]

RETENTION = timedelta(days=365)  # the audit's 12 months (DOMAIN.md §6)
PURGE_EVERY_S = 3600
# Bidirectional embeddings, overrides and isolates (format characters, not controls).
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def clean(text: str, limit: int) -> str:
    """`text` without control characters (a line break, an escape, a NUL, a bidi override),
    cut at `limit` characters."""
    kept = "".join(
        ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cs") and ch not in _BIDI
    )
    return kept[:limit]


def _row(
    operator: str,
    action: str,
    *,
    phone: str | None = None,
    reason: str | None = None,
    detail: str | None = None,
    child: str | None = None,
) -> dict[str, object]:
    return {
        "at": datetime.now(UTC),
        "operator": clean(operator, 64),
        "action": clean(action, 32),
        "phone_masked": mask_address(phone) if phone else None,
        "reason": clean(reason, 500) or None if reason else None,
        "detail": clean(detail, 200) or None if detail else None,
        "child": clean(child, 64) or None if child else None,
    }


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at: datetime
    operator: str
    action: str
    phone_masked: str | None
    reason: str | None
    detail: str | None
    child: str | None = None


@translated
class AuditLog:
    def __init__(
        self,
        engine: sa.Engine,
        redis: Redis | None = None,
        *,
        anonymous_per_minute: int = 30,
        key_secret: bytes = b"",
    ) -> None:
        self.engine, self.redis = engine, redis
        self.anonymous_per_minute = anonymous_per_minute
        # One deployment's counter (two sharing a Redis never count each other's lines).
        self._ns = hmac.new(key_secret, b"audit-anonymous", hashlib.sha256).hexdigest()[:12]
        self._purged_at: float | None = None

    async def write(
        self,
        operator: str,
        action: str,
        *,
        phone: str | None = None,
        reason: str | None = None,
        detail: str | None = None,
        child: str | None = None,
    ) -> None:
        """One line; the phone is stored masked only (`+212*******01`)."""
        row = _row(operator, action, phone=phone, reason=reason, detail=detail, child=child)
        await anyio.to_thread.run_sync(partial(self._write, row))

    def write_blocking(
        self, operator: str, action: str, *, reason: str | None = None, detail: str | None = None
    ) -> None:
        """One line, from a caller without an event loop (the command line); the database's
        errors as `StoreUnavailable`."""
        row = _row(operator, action, reason=reason, detail=detail)
        try:
            with self.engine.begin() as conn:
                conn.execute(sa.insert(console_audit).values(**row))
        except SQLAlchemyError as exc:
            raise unavailable(exc, "AuditLog.write_blocking") from exc

    async def write_bounded(self, operator: str, action: str, **fields: str | None) -> bool:
        """A line a stranger can cause: written unless this minute had its share already
        (the first one over says so). Whether it was written."""
        if self.redis is not None:
            key = Keys.console_audit_anonymous(self._ns, int(time.time() // 60))
            try:
                async with self.redis.pipeline(transaction=True) as pipe:
                    pipe.incr(key)
                    pipe.expire(key, 120)
                    count = int((await pipe.execute())[0])
            except RedisError:
                count = 1  # the audit matters more than its bound
            if count > self.anonymous_per_minute + 1:
                return False
            if count == self.anonymous_per_minute + 1:
                await self.write(
                    "anonymous",
                    "audit_suppressed",
                    detail=f"more than {self.anonymous_per_minute} anonymous lines this minute",
                )
                return False
        await self.write(operator, action, **fields)
        return True

    def _write(self, row: dict[str, object]) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.insert(console_audit).values(**row))
            due = self._purged_at is None or time.monotonic() - self._purged_at > PURGE_EVERY_S
            if due:  # at most hourly
                self._purged_at = time.monotonic()
                cutoff = datetime.now(UTC) - RETENTION
                conn.execute(sa.delete(console_audit).where(console_audit.c.at < cutoff))

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
                    child=row.child,
                )
                for row in conn.execute(query)
            ]
