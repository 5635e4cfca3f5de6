"""Rotating the identity key (issue #25 item 5): the registry of identity key generations,
and on every table holding hashes of phones or chats the generation its row is under
(gateway/state/keyring.py). Existing rows are under the first key: generation 1.

Revision ID: identity_key
Revises: console_need_to_know
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "identity_key"
down_revision: str | Sequence[str] | None = "console_need_to_know"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HASHED = ("phone_binding", "outbound_message", "telegram_link", "alert_preference", "alert_held")


def upgrade() -> None:
    op.create_table(
        "identity_key",
        sa.Column("gen", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rekeyed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("progress", sa.Text, nullable=True),
    )
    inspector = sa.inspect(op.get_bind())
    for table in HASHED:
        # A table `metadata.create_all` made (before migrations, 0002) may have it already.
        if "key_gen" in {c["name"] for c in inspector.get_columns(table)}:
            continue
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column("key_gen", sa.SmallInteger, nullable=False, server_default="1")
            )


def downgrade() -> None:
    for table in HASHED:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("key_gen")
    op.drop_table("identity_key")
