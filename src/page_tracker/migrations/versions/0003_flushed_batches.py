"""flushed batches (Redis mode's idempotent flush)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 22:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tracking_flushed_batches",
        sa.Column("batch_id", sa.String(length=32), nullable=False),
        sa.Column("flushed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("batch_id", name=op.f("pk_tracking_flushed_batches")),
    )
    op.create_index(
        op.f("ix_tracking_flushed_batches_flushed_at"),
        "tracking_flushed_batches",
        ["flushed_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_tracking_flushed_batches_flushed_at"), table_name="tracking_flushed_batches"
    )
    op.drop_table("tracking_flushed_batches")
