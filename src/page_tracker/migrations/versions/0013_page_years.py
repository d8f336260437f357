"""the months of each year a page has monthly rows in, backfilled from stat_monthly, so
that the pages breakdown counts a year's pages without reading every monthly row
(issue 10: cold year reads)

Revision ID: 0013_page_years
Revises: 0012_import_job_lease
Create Date: 2026-12-03 10:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_page_years"
down_revision: str | None = "0012_import_job_lease"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _year_and_month(dialect: str) -> tuple[str, str]:
    """SQL of the year and the month number of ``stat_monthly.month`` (SQLite: text)."""
    if dialect == "postgresql":
        return (
            "CAST(EXTRACT(YEAR FROM month) AS INTEGER)",
            "CAST(EXTRACT(MONTH FROM month) AS INTEGER)",
        )
    if dialect == "mysql":
        return "YEAR(month)", "MONTH(month)"
    return "CAST(strftime('%Y', month) AS INTEGER)", "CAST(strftime('%m', month) AS INTEGER)"


def upgrade() -> None:
    op.create_table(
        "stat_page_years",
        sa.Column("site_id", sa.String(length=12), nullable=False),
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("path_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("months", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("site_id", "year", "path_id", name=op.f("pk_stat_page_years")),
    )
    # Backfill: a page's month is a row of stat_monthly, at most one a month and page, so
    # the sum of the months' bits is their OR (SQLite has no BIT_OR).
    year, month = _year_and_month(op.get_bind().dialect.name)
    op.execute(
        "INSERT INTO stat_page_years (site_id, year, path_id, months) "  # noqa: S608
        f"SELECT site_id, {year}, path_id, SUM(1 << ({month} - 1)) FROM stat_monthly "  # nosec B608
        f"WHERE path_id <> 0 GROUP BY site_id, {year}, path_id"
    )


def downgrade() -> None:
    op.drop_table("stat_page_years")
