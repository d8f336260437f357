"""monthly per-page rollup backfilled from the daily one, and the full-text index of
page paths and titles (issue 10: stats speed, item 7 search)

Revision ID: 0007_rollup_search
Revises: 0006
Create Date: 2026-12-02 16:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_rollup_search"
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

    _create_page_search(op.get_bind().dialect.name)


# PostgreSQL: the document page_tracker.stats.search.POSTGRES_DOCUMENT asks for (the very
# same text, or the planner does not use the index).
POSTGRES_DOCUMENT = (
    "to_tsvector('simple'::regconfig, regexp_replace("
    "((stat_paths.path)::text || ' ' || COALESCE(stat_paths.title, '')), "
    "'[[:punct:][:space:]]+', ' ', 'g'))"
)
# SQLite: an FTS5 index over stat_paths (external content), kept current by triggers.
SQLITE_SEARCH = (
    "CREATE VIRTUAL TABLE stat_paths_search USING fts5("
    "path, title, content='stat_paths', content_rowid='id', tokenize='unicode61')",
    "CREATE TRIGGER stat_paths_search_insert AFTER INSERT ON stat_paths BEGIN "
    "INSERT INTO stat_paths_search(rowid, path, title) VALUES (new.id, new.path, new.title); "
    "END",
    "CREATE TRIGGER stat_paths_search_delete AFTER DELETE ON stat_paths BEGIN "
    "INSERT INTO stat_paths_search(stat_paths_search, rowid, path, title) "
    "VALUES ('delete', old.id, old.path, old.title); END",
    "CREATE TRIGGER stat_paths_search_update AFTER UPDATE ON stat_paths BEGIN "
    "INSERT INTO stat_paths_search(stat_paths_search, rowid, path, title) "
    "VALUES ('delete', old.id, old.path, old.title); "
    "INSERT INTO stat_paths_search(rowid, path, title) VALUES (new.id, new.path, new.title); "
    "END",
    # backfill: index the paths already there
    "INSERT INTO stat_paths_search(stat_paths_search) VALUES ('rebuild')",
)


def _create_page_search(dialect: str) -> None:
    if dialect == "postgresql":
        op.execute(
            f"CREATE INDEX ix_stat_paths_search ON stat_paths USING gin ({POSTGRES_DOCUMENT})"
        )
    elif dialect == "mysql":
        # A stored column of its own: the tables are utf8mb4_bin (a FULLTEXT index on them
        # would be case-sensitive), a FULLTEXT index on (path, title) loses the first
        # word of the title (MariaDB 10.11), and its parser keeps "_" inside words.
        op.execute(
            "ALTER TABLE stat_paths ADD COLUMN search_text VARCHAR(760) "
            "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci "
            "AS (REPLACE(CONCAT(path, ' ', COALESCE(title, '')), '_', ' ')) PERSISTENT"
        )
        op.execute("CREATE FULLTEXT INDEX ix_stat_paths_search ON stat_paths (search_text)")
    else:
        for statement in SQLITE_SEARCH:
            op.execute(statement)


def _drop_page_search(dialect: str) -> None:
    if dialect in {"postgresql", "mysql"}:
        op.drop_index("ix_stat_paths_search", table_name="stat_paths")
        if dialect == "mysql":
            op.drop_column("stat_paths", "search_text")
        return
    for trigger in ("insert", "delete", "update"):
        op.execute(f"DROP TRIGGER stat_paths_search_{trigger}")
    op.execute("DROP TABLE stat_paths_search")


def downgrade() -> None:
    _drop_page_search(op.get_bind().dialect.name)
    op.drop_table("stat_monthly")
