"""phone_binding: a phone proved (Massar code + child's birth date) it may see a student.

Revision ID: 0001
Revises:
Create Date: 2026-12-02

Databases from before migrations already hold this table, made at each start by
`metadata.create_all` with the same DDL: it is kept as it is, rows included.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("phone_binding"):
        return
    op.create_table(
        "phone_binding",
        sa.Column("phone_h", sa.Text(), nullable=False),  # HMAC-SHA256 of the E.164 phone
        sa.Column("student_id", sa.Text(), nullable=False),
        sa.Column("bound_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("phone_h", "student_id"),
    )


def downgrade() -> None:
    op.drop_table("phone_binding")
