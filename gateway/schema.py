"""The gateway's SQL tables, in one `metadata` (Alembic's target: `gateway/migrations/`).

No phone number is stored: phones are keyed HMAC-SHA256 hashes (`phone_h`, `to_h`), plus a
masked form for operators. Times are timezone-aware UTC on every database.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

import sqlalchemy as sa

__all__ = [
    "UtcDateTime",
    "address_h",
    "console_audit",
    "console_operator",
    "metadata",
    "outbound_message",
    "phone_binding",
]


class UtcDateTime(sa.TypeDecorator[datetime]):
    """A timezone-aware datetime, stored in UTC, read back aware on every database."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("a stored time must be timezone-aware")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:  # SQLite: what we wrote was UTC
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


metadata = sa.MetaData()

# A phone proved (Massar code + child's birth date) it may see a student.
phone_binding = sa.Table(
    "phone_binding",
    metadata,
    sa.Column("phone_h", sa.Text, primary_key=True),
    sa.Column("student_id", sa.Text, primary_key=True),
    sa.Column("bound_at", UtcDateTime, nullable=False),
)

# Every message the outbox sends: status moves only forward (queued -> sent -> delivered ->
# read, or failed); `text` and `options` are emptied after GATEWAY_MESSAGE_BODY_RETENTION_H.
outbound_message = sa.Table(
    "outbound_message",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("idem_h", sa.String(64), nullable=False, unique=True),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("to_h", sa.String(64), nullable=False),
    sa.Column("to_masked", sa.String(32), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("priority", sa.SmallInteger, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("status_rank", sa.SmallInteger, nullable=False),
    sa.Column("sender", sa.String(16), nullable=True),
    sa.Column("provider_id", sa.String(64), nullable=True),
    sa.Column("error", sa.String(64), nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("text", sa.Text, nullable=True),
    sa.Column("options", sa.Text, nullable=True),  # JSON [{"id", "label"}]
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Column("sent_at", UtcDateTime, nullable=True),
    sa.Index("ix_outbound_message_to_h_created_at", "to_h", "created_at"),
    sa.Index("ix_outbound_message_provider_id", "provider_id"),
    sa.Index("ix_outbound_message_created_at", "created_at"),
)


def address_h(key_secret: bytes, address: str) -> str:
    """The stored form of a phone or chat address: HMAC-SHA256 with the identity key, hex."""
    return hmac.new(key_secret, address.encode(), hashlib.sha256).hexdigest()


# --- The operators' console (issue #16) -------------------------------------------------------

# A hotline agent or supervisor: the password is an argon2id hash (argon2-cffi).
console_operator = sa.Table(
    "console_operator",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

# Every operator action: who, what, when, which phone (masked only), the reason given.
console_audit = sa.Table(
    "console_audit",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("operator", sa.String(64), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("phone_masked", sa.String(32), nullable=True),
    sa.Column("reason", sa.String(500), nullable=True),
    sa.Column("detail", sa.String(200), nullable=True),
    sa.Index("ix_console_audit_at", "at"),
)
