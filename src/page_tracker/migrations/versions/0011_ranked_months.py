"""an index listing each month's pages by page views, for the exact top pages that read
the best pages of each month instead of summing every page (issue 10: stats speed)

Revision ID: 0011_ranked_months
Revises: 0010_path_dimensions
Create Date: 2026-12-03 07:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011_ranked_months"
down_revision: str | None = "0010_path_dimensions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_stat_monthly_ranked",
        "stat_monthly",
        ["site_id", "month", "pageviews", "path_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_stat_monthly_ranked", table_name="stat_monthly")
