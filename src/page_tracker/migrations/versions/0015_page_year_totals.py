"""each page's page views and visitors of each UTC year next to its months, with an
index listing a year's pages by page views, backfilled from stat_monthly, so that the
top pages of a year are an index walk even when thousands of pages tie (issue 10: cold
year reads on flat data)

Revision ID: 0015_page_year_totals
Revises: 0014_access_epoch
Create Date: 2026-12-03 13:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_page_year_totals"
down_revision: str | None = "0014_access_epoch"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _year(dialect: str) -> str:
    """SQL of the year of ``stat_monthly.month`` (SQLite: text)."""
    if dialect == "postgresql":
        return "CAST(EXTRACT(YEAR FROM m.month) AS INTEGER)"
    if dialect == "mysql":
        return "YEAR(m.month)"
    return "CAST(strftime('%Y', m.month) AS INTEGER)"


def upgrade() -> None:
    for name in ("pageviews", "visitors"):
        op.add_column(
            "stat_page_years",
            sa.Column(name, sa.BigInteger(), nullable=False, server_default="0"),
        )
    # Backfill: a page's year is the sum of its monthly rows of that year (the monthly
    # key leads with the site and the page: each row probes one short range).
    year = _year(op.get_bind().dialect.name)
    months = (
        "FROM stat_monthly m WHERE m.site_id = stat_page_years.site_id "
        f"AND m.path_id = stat_page_years.path_id AND {year} = stat_page_years.year"
    )
    op.execute(
        "UPDATE stat_page_years SET "  # noqa: S608
        f"pageviews = COALESCE((SELECT SUM(m.pageviews) {months}), 0), "  # nosec B608
        f"visitors = COALESCE((SELECT SUM(m.visitors) {months}), 0)"
    )
    op.create_index(
        "ix_stat_page_years_ranked",
        "stat_page_years",
        ["site_id", "year", "pageviews", "path_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_stat_page_years_ranked", table_name="stat_page_years")
    op.drop_column("stat_page_years", "visitors")
    op.drop_column("stat_page_years", "pageviews")
