"""WhatsApp templates (issue #26 item 5): a message record names the template an alert went
out as outside the 24-hour window, and a guardian's preferences say how much a template says
(minimal unless they chose full, DOMAIN.md §6).

Revision ID: whatsapp_templates
Revises: identity_key
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "whatsapp_templates"
down_revision: str | Sequence[str] | None = "identity_key"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A database whose outbound_message came from `metadata.create_all` (before migrations,
    # gateway/migrations/versions/0002_outbound_message.py) may have the column already.
    columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("outbound_message")}
    if "template" not in columns:
        with op.batch_alter_table("outbound_message") as batch:
            batch.add_column(sa.Column("template", sa.String(80), nullable=True))
    with op.batch_alter_table("alert_preference") as batch:
        batch.add_column(sa.Column("detail", sa.String(8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alert_preference") as batch:
        batch.drop_column("detail")
    with op.batch_alter_table("outbound_message") as batch:
        batch.drop_column("template")
