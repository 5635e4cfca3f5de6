"""telegram_link: a Telegram chat that shared its own contact, and the phone it proved.

Revision ID: telegram_link
Revises: alerts_0003_preferences
Create Date: 2026-12-02

The phone is not stored in clear: `phone_box` is AES-GCM under a key derived from the
identity key and the chat id, and rows are found by a keyed hash of the chat id
(`gateway/telegram_links.py`).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "telegram_link"
down_revision: str | Sequence[str] | None = "alerts_0003_preferences"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A database made by `metadata.create_all` (the tests' shortcut) has it already.
    if sa.inspect(op.get_bind()).has_table("telegram_link"):
        return
    op.create_table(
        "telegram_link",
        sa.Column("chat_h", sa.String(64), nullable=False),
        sa.Column("phone_box", sa.String(128), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("chat_h"),
    )


def downgrade() -> None:
    op.drop_table("telegram_link")
