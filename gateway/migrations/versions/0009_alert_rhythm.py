"""Alerts chosen by message (issue #26): a phone's rhythm (at once, a daily digest or a weekly
summary) beside its kinds, and which held alerts wait for a weekly summary.

`rhythm` NULL reads as before: a daily digest when `digest` is set, else at once; `batch`
NULL is an alert held by quiet hours or for a digest.

Revision ID: alerts_rhythm
Revises: whatsapp_templates
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "alerts_rhythm"
down_revision: str | Sequence[str] | None = "whatsapp_templates"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("alert_preference") as batch:
        batch.add_column(sa.Column("rhythm", sa.String(8), nullable=True))
    with op.batch_alter_table("alert_held") as batch:
        batch.add_column(sa.Column("batch", sa.String(8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alert_held") as batch:
        batch.drop_column("batch")
    with op.batch_alter_table("alert_preference") as batch:
        batch.drop_column("rhythm")
