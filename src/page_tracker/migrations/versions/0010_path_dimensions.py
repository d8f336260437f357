"""daily page x dimension rollup, backfilled from the raw hits kept for retention
(issue 12 item 1, issue 10 item 4: filters narrow every table)

Revision ID: 0010_path_dimensions
Revises: 0009_share_links
Create Date: 2026-12-03 07:20:00.000000

What can be backfilled: the days whose every page view is still a raw ``stat_hits`` row
(sites with ``retention_days``; a day counts as complete when its hits add up to the
site's ``stat_daily`` page views, so a day cut by the retention purge, half imported or
counted before retention was switched on is left out, never half counted). Raw hits keep
browser, OS, device, country and referring host, not the campaign (utm_*) values: the
campaign kinds start with the upgrade. Every other day starts empty: the dimension
tables of a filtered page (and the pages of a dimension filter) count from here on.
"""

from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0010_path_dimensions"
down_revision: str | None = "0009_share_links"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "stat_daily_path_dimensions"
# Raw hit column -> dimension kind (what the rollup crosses and a raw hit still holds).
FROM_HITS = {
    "browser": "browser",
    "os": "os",
    "device": "device",
    "country": "country",
    "referrer_host": "referrer_host",
}
MAX_VALUE_LENGTH = 255
CHUNK = 1000


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("site_id", sa.String(length=12), nullable=False),
        sa.Column("path_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("dimension_id", sa.Integer(), nullable=False),
        sa.Column("pageviews", sa.BigInteger(), nullable=False),
        sa.Column("visitors", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "site_id", "path_id", "day", "dimension_id", name=op.f(f"pk_{TABLE}")
        ),
    )
    op.create_index(
        "ix_stat_daily_path_dimensions_dimension",
        TABLE,
        ["site_id", "dimension_id", "day"],
    )
    _backfill(op.get_bind())


def downgrade() -> None:
    op.drop_index("ix_stat_daily_path_dimensions_dimension", table_name=TABLE)
    op.drop_table(TABLE)


def _backfill(bind: sa.Connection) -> None:
    hits = sa.table(
        "stat_hits",
        *(sa.column(name) for name in ("id", "site_id", "path_id", "timestamp", "visitor")),
        *(sa.column(name) for name in FROM_HITS),
    )
    dimensions = sa.table("stat_dimensions", sa.column("id"), sa.column("kind"), sa.column("value"))
    daily = sa.table(
        "stat_daily", sa.column("site_id"), sa.column("day"), sa.column("path_id"),
        sa.column("pageviews"),
    )  # fmt: skip
    target = sa.table(
        TABLE,
        *(sa.column(name) for name in ("site_id", "path_id", "day", "dimension_id")),
        sa.column("pageviews"),
        sa.column("visitors"),
    )
    spans = bind.execute(
        sa.select(hits.c.site_id, sa.func.min(hits.c.timestamp), sa.func.max(hits.c.timestamp))
        .group_by(hits.c.site_id)
        .order_by(hits.c.site_id)
    ).all()
    if not spans:
        return
    ids = {
        (kind, value): dimension_id
        for dimension_id, kind, value in bind.execute(
            sa.select(dimensions.c.id, dimensions.c.kind, dimensions.c.value).where(
                dimensions.c.kind.in_(list(FROM_HITS.values()))
            )
        )
    }
    for site_id, first, last in spans:
        day = _as_datetime(first).date()
        while day <= _as_datetime(last).date():
            low = datetime.combine(day, time())
            rows = bind.execute(
                sa.select(hits.c.path_id, hits.c.visitor, *(hits.c[name] for name in FROM_HITS))
                .where(hits.c.site_id == site_id)
                .where(hits.c.timestamp >= low, hits.c.timestamp < low + timedelta(days=1))
                .order_by(hits.c.timestamp, hits.c.id)
            ).all()
            counted = bind.scalar(
                sa.select(daily.c.pageviews).where(
                    daily.c.site_id == site_id, daily.c.day == day, daily.c.path_id == 0
                )
            )
            if rows and int(counted or 0) == len(rows):  # the day is all there
                _insert(bind, target, site_id, day, _count(rows, ids))
            day += timedelta(days=1)


def _as_datetime(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def _count(
    rows: Sequence[sa.Row[Any]], ids: dict[tuple[str, str], int]
) -> dict[tuple[int, int], list[int]]:
    """(path_id, dimension_id) -> [page views, visitors] of one day's hits in time order:
    a visitor counts with the values of their first view of the page that day (as the
    rollup counts them)."""
    views: Counter[tuple[int, int]] = Counter()
    visitors: Counter[tuple[int, int]] = Counter()
    seen: set[tuple[int, bytes]] = set()
    for row in rows:
        path_id, visitor, *values = tuple(row)
        first = (path_id, bytes(visitor)) not in seen
        seen.add((path_id, bytes(visitor)))
        for kind, value in zip(FROM_HITS.values(), values, strict=True):
            dimension_id = ids.get((kind, str(value)[:MAX_VALUE_LENGTH])) if value else None
            if dimension_id is None:
                continue
            views[(path_id, dimension_id)] += 1
            if first:
                visitors[(path_id, dimension_id)] += 1
    return {key: [count, visitors[key]] for key, count in views.items()}


def _insert(
    bind: sa.Connection,
    target: sa.TableClause,
    site_id: str,
    day: date,
    counts: dict[tuple[int, int], list[int]],
) -> None:
    rows = [
        {
            "site_id": site_id,
            "path_id": path_id,
            "day": day,
            "dimension_id": dimension_id,
            "pageviews": views,
            "visitors": visitors,
        }
        for (path_id, dimension_id), (views, visitors) in sorted(counts.items())
    ]
    for start in range(0, len(rows), CHUNK):
        bind.execute(sa.insert(target), rows[start : start + CHUNK])
