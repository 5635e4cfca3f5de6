"""outbound_message: every message the outbox sends, and how far it got.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02

Databases started by the code just before migrations may have it already: each start then
created every table of gateway/schema.py with `metadata.create_all`, the same DDL as below.
Such a table is kept as it is.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("outbound_message"):
        return
    op.create_table(
        "outbound_message",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("idem_h", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("to_h", sa.String(64), nullable=False),
        sa.Column("to_masked", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("priority", sa.SmallInteger(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_rank", sa.SmallInteger(), nullable=False),
        sa.Column("sender", sa.String(16), nullable=True),
        sa.Column("provider_id", sa.String(64), nullable=True),
        sa.Column("error", sa.String(64), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("options", sa.Text(), nullable=True),  # JSON [{"id", "label"}]
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idem_h"),
    )
    op.create_index(
        "ix_outbound_message_to_h_created_at", "outbound_message", ["to_h", "created_at"]
    )
    op.create_index("ix_outbound_message_provider_id", "outbound_message", ["provider_id"])
    op.create_index("ix_outbound_message_created_at", "outbound_message", ["created_at"])


def downgrade() -> None:
    op.drop_table("outbound_message")  # its indexes go with it
