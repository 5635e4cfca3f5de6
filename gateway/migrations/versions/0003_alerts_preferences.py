"""alert_cursor, alert_preference, alert_held: the alerts consumer's place in the change feed,
each phone's alert preferences (opt-out, language, channel, digest) and alerts held back by
quiet hours.

Revision ID: alerts_0003_preferences
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "alerts_0003_preferences"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alert_cursor",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("cursor", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "alert_preference",
        sa.Column("phone_h", sa.String(64), nullable=False),
        sa.Column("opted_out", sa.Boolean(), nullable=False),
        sa.Column("opted_out_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lang", sa.String(2), nullable=True),
        sa.Column("channel", sa.String(16), nullable=True),
        sa.Column("chat_address", sa.String(64), nullable=True),
        sa.Column("kinds", sa.String(64), nullable=True),
        sa.Column("digest", sa.Boolean(), nullable=False),
        sa.Column("welcomed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("phone_h"),
    )
    op.create_table(
        "alert_held",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(32), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("guardian_id", sa.String(64), nullable=False),
        sa.Column("phone_h", sa.String(64), nullable=False),
        sa.Column("student_id", sa.String(64), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("release_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id", "phone_h", name="uq_alert_held_event_phone"),
    )
    op.create_index("ix_alert_held_release_at", "alert_held", ["release_at"])


def downgrade() -> None:
    op.drop_table("alert_held")  # its index goes with it
    op.drop_table("alert_preference")
    op.drop_table("alert_cursor")
