"""The gateway's SQL tables, in one `metadata` (Alembic's target: `gateway/migrations/`).

No phone number is stored in clear: phones are keyed HMAC-SHA256 hashes (`phone_h`, `to_h`),
plus a masked form for operators; the one phone kept, a Telegram chat's, is sealed
(`telegram_link`). Times are timezone-aware UTC on every database.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from gateway.state.keyring import KeyRing

__all__ = [
    "UtcDateTime",
    "address_h",
    "alert_cursor",
    "alert_held",
    "alert_preference",
    "console_audit",
    "console_operator",
    "dialect_insert",
    "identity_key",
    "key_gen",
    "metadata",
    "outbound_message",
    "phone_binding",
    "telegram_link",
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


def key_gen() -> sa.Column[int]:
    """Which identity key generation a row's hashes are under (gateway/state/keyring.py): a
    rekey moves rows up one generation without their phones."""
    return sa.Column("key_gen", sa.SmallInteger, nullable=False, server_default="1")


# A phone proved (Massar code + child's birth date) it may see a student.
phone_binding = sa.Table(
    "phone_binding",
    metadata,
    sa.Column("phone_h", sa.Text, primary_key=True),
    sa.Column("student_id", sa.Text, primary_key=True),
    sa.Column("bound_at", UtcDateTime, nullable=False),
    key_gen(),
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
    # The child the message is about (the backend's opaque student id), where the code that
    # queued it knew: alerts, answers about one child. The console shows the text of such a
    # message only after an agent's check of that child (issue #21).
    sa.Column("student_id", sa.String(64), nullable=True),
    key_gen(),
    sa.Column("template", sa.String(80), nullable=True),  # a WhatsApp template: name.lang
    sa.Index("ix_outbound_message_to_h_created_at", "to_h", "created_at"),
    sa.Index("ix_outbound_message_provider_id", "provider_id"),
    sa.Index("ix_outbound_message_created_at", "created_at"),
)

# A Telegram chat that shared its own contact (issue #9): the phone it proved, sealed with
# AES-GCM under a key derived from the identity key and the chat id (gateway/telegram_links.py),
# found by a keyed hash of the chat id. Without the chat id the row opens for no one.
telegram_link = sa.Table(
    "telegram_link",
    metadata,
    sa.Column("chat_h", sa.String(64), primary_key=True),
    sa.Column("phone_box", sa.String(128), nullable=False),
    sa.Column("linked_at", UtcDateTime, nullable=False),
    key_gen(),
)


# --- alerts (issue 15) ---------------------------------------------------------------------
# Where the alerts consumer stands in the backend's change feed (one row per feed).
alert_cursor = sa.Table(
    "alert_cursor",
    metadata,
    sa.Column("name", sa.String(32), primary_key=True),
    sa.Column("cursor", sa.String(64), nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

# A phone's alert preferences (keyed by its hash): opted out (STOP, or the provider said so),
# the language chosen with AR/FR, the channel and kinds of alerts, their rhythm (at once, a
# daily digest or a weekly summary: the alerts menu; `digest` is true for a daily one), and
# when it got its first alert (the one that says how to stop).
alert_preference = sa.Table(
    "alert_preference",
    metadata,
    sa.Column("phone_h", sa.String(64), primary_key=True),
    sa.Column("opted_out", sa.Boolean, nullable=False),
    sa.Column("opted_out_at", UtcDateTime, nullable=True),
    sa.Column("lang", sa.String(2), nullable=True),
    sa.Column("channel", sa.String(16), nullable=True),  # sms (default) | whatsapp | telegram
    sa.Column("chat_address", sa.String(64), nullable=True),  # telegram:<chat id>
    sa.Column("kinds", sa.String(64), nullable=True),  # "absence,marks,enrolment"; NULL: all
    sa.Column("digest", sa.Boolean, nullable=False),
    sa.Column("rhythm", sa.String(8), nullable=True),  # instant | daily | weekly; NULL: digest
    sa.Column("welcomed_at", UtcDateTime, nullable=True),
    sa.Column("detail", sa.String(8), nullable=True),  # WhatsApp templates: minimal | full
    sa.Column("updated_at", UtcDateTime, nullable=False),
    key_gen(),
)

# Alerts made during quiet hours (or for a digest, or a weekly summary: `batch`), waiting for
# `release_at`; phones are looked up again when they go out, so an opt-out in the night is
# honoured.
alert_held = sa.Table(
    "alert_held",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("event_id", sa.String(32), nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False),  # the event's place in the feed
    sa.Column("guardian_id", sa.String(64), nullable=False),
    sa.Column("phone_h", sa.String(64), nullable=False),  # which of the guardian's phones
    sa.Column("student_id", sa.String(64), nullable=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("payload", sa.Text, nullable=False),  # JSON: what the alert says
    sa.Column("release_at", UtcDateTime, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    key_gen(),
    sa.Column("batch", sa.String(8), nullable=True),  # "weekly": a summary's news; else NULL
    sa.UniqueConstraint("event_id", "phone_h", name="uq_alert_held_event_phone"),
    sa.Index("ix_alert_held_release_at", "release_at"),
)


def address_h(key_secret: bytes | KeyRing, address: str) -> str:
    """The stored form of a phone or chat address: HMAC-SHA256 with the identity key, hex
    (chained over the keys after a rotation: gateway/state/keyring.py)."""
    return KeyRing.of(key_secret).address_h(address)


# The identity keys this database's hashes were made with (gateway/state/identity.py): each
# generation's fingerprint (an HMAC of a constant, never the key), when it was first seen,
# when `gateway rekey` had moved every row to it, and the rekey's progress (JSON per table).
identity_key = sa.Table(
    "identity_key",
    metadata,
    sa.Column("gen", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("added_at", UtcDateTime, nullable=False),
    sa.Column("rekeyed_at", UtcDateTime, nullable=True),
    sa.Column("progress", sa.Text, nullable=True),
)


def dialect_insert(engine: sa.Engine) -> Any:
    """The `insert` of the engine's dialect, which has `on_conflict_do_update`."""
    dialect = engine.dialect.name
    if dialect == "sqlite":
        return sqlite.insert
    if dialect == "postgresql":
        return postgresql.insert
    raise NotImplementedError(f"upserts need SQLite or PostgreSQL, not {dialect}")


# --- The operators' console (issue #16) -------------------------------------------------------

# A hotline agent or supervisor: the password is an argon2id hash (argon2-cffi); a disabled
# operator cannot sign in; sessions begun before `sessions_after` (a password change, a
# disable) are over; a supervisor's TOTP secret is sealed (AES-GCM, a key derived from the
# identity key), NULL until enrolled.
console_operator = sa.Table(
    "console_operator",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("disabled_at", UtcDateTime, nullable=True),
    sa.Column("sessions_after", UtcDateTime, nullable=True),
    sa.Column("totp_box", sa.String(128), nullable=True),
)

# Every operator action: who, what, when, which phone (masked only), which child (its opaque
# id, when a child's data was shown), the reason given.
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
    sa.Column("child", sa.String(64), nullable=True),
    sa.Index("ix_console_audit_at", "at"),
)
