"""Need-to-know in the console (issue #21): message records name the child they are about,
operators can be disabled and their sessions ended, supervisors keep a sealed TOTP secret,
and the audit names the child whose data was shown.

Revision ID: console_need_to_know
Revises: console_operators
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "console_need_to_know"
down_revision: str | Sequence[str] | None = "console_operators"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A database whose outbound_message came from `metadata.create_all` (before migrations,
    # gateway/migrations/versions/0002_outbound_message.py) may have the column already.
    columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("outbound_message")}
    if "student_id" not in columns:
        with op.batch_alter_table("outbound_message") as batch:
            batch.add_column(sa.Column("student_id", sa.String(64), nullable=True))
    with op.batch_alter_table("console_operator") as batch:
        batch.add_column(sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("sessions_after", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("totp_box", sa.String(128), nullable=True))
    with op.batch_alter_table("console_audit") as batch:
        batch.add_column(sa.Column("child", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("console_audit") as batch:
        batch.drop_column("child")
    with op.batch_alter_table("console_operator") as batch:
        batch.drop_column("totp_box")
        batch.drop_column("sessions_after")
        batch.drop_column("disabled_at")
    with op.batch_alter_table("outbound_message") as batch:
        batch.drop_column("student_id")
