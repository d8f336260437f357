"""monthly per-page rollup, backfilled from the daily one (issue 10: stats speed)

Revision ID: 0007_monthly_rollup
Revises: 0006
Create Date: 2026-12-02 16:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_monthly_rollup"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _month_of(day: sa.ColumnElement[object], dialect: str) -> sa.ColumnElement[object]:
    """The first day of ``day``'s month (SQLite stores dates as text)."""
    if dialect == "postgresql":
        return sa.cast(sa.func.date_trunc("month", day), sa.Date)
    if dialect == "mysql":
        return sa.cast(sa.func.date_format(day, "%Y-%m-01"), sa.Date)
    return sa.func.date(day, "start of month")


def upgrade() -> None:
    op.create_table(
        "stat_monthly",
        sa.Column("site_id", sa.String(length=12), nullable=False),
        sa.Column("path_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("pageviews", sa.BigInteger(), nullable=False),
        sa.Column("visitors", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("site_id", "path_id", "month", name=op.f("pk_stat_monthly")),
    )
    # Backfill: every month is the sum of its days (what the write path keeps it at).
    daily = sa.table(
        "stat_daily",
        *(sa.column(name) for name in ("site_id", "path_id", "day")),
        sa.column("pageviews"),
        sa.column("visitors"),
    )
    monthly = sa.table(
        "stat_monthly",
        *(sa.column(name) for name in ("site_id", "path_id", "month", "pageviews", "visitors")),
    )
    days = sa.select(
        daily.c.site_id,
        daily.c.path_id,
        _month_of(daily.c.day, op.get_bind().dialect.name).label("month"),
        daily.c.pageviews,
        daily.c.visitors,
    ).subquery()
    sums = sa.select(
        days.c.site_id,
        days.c.path_id,
        days.c.month,
        sa.func.sum(days.c.pageviews),
        sa.func.sum(days.c.visitors),
    ).group_by(days.c.site_id, days.c.path_id, days.c.month)
    op.execute(
        monthly.insert().from_select(["site_id", "path_id", "month", "pageviews", "visitors"], sums)
    )


def downgrade() -> None:
    op.drop_table("stat_monthly")
