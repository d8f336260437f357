"""``page-tracker stats SITE_ID``: a site's numbers in the terminal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import click
from flask.cli import with_appcontext
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from page_tracker.cli_errors import fail
from page_tracker.db import get_session
from page_tracker.errors import StoreError
from page_tracker.sites.services import get_site
from page_tracker.stats.counters import COUNTERS
from page_tracker.stats.queries import top_pages, totals_by_day
from page_tracker.terminal import terminal_safe


@click.command("stats")
@click.argument("site_id")
@click.option(
    "--days", type=click.IntRange(1, 366), default=7, show_default=True, help="Days to list."
)
@click.option("--top", type=click.IntRange(0, 100), default=10, show_default=True)
@with_appcontext
def stats(site_id: str, days: int, top: int) -> None:
    """Print a site's all-time totals, its last DAYS days and its top pages."""
    session = get_session()
    end = datetime.now(UTC).date()
    start = end - timedelta(days=days - 1)
    try:
        site = get_site(session, site_id)
        if site is None:
            fail(f"no site {site_id!r} (page-tracker sites list shows the ids)")
        totals = COUNTERS.get().read(site_id, "/")
        by_day = {row.day: row for row in totals_by_day(session, site_id, start, end)}
        pages = top_pages(session, site_id, start, end, top) if top else []
    except (SQLAlchemyError, RedisError, StoreError) as error:
        fail(f"store error: {str(error).splitlines()[0]}")
    click.echo(
        f"{terminal_safe(site.domain)} ({site.id}): {totals.site_pv} page views, "
        f"{totals.site_uv} visitors all time"
    )
    click.echo(f"\n{'day':<12}{'views':>10}{'visitors':>10}")
    for offset in range(days):
        day = start + timedelta(days=offset)
        row = by_day.get(day)
        click.echo(
            f"{day.isoformat():<12}{row.pageviews if row else 0:>10}"
            f"{row.visitors if row else 0:>10}"
        )
    if pages:
        click.echo(f"\n{'top pages':<40}{'views':>10}{'visitors':>10}")
        for page in pages:
            # Paths come from readers: escaped, then cut to the column.
            path = terminal_safe(page.path)[:39]
            click.echo(f"{path:<40}{page.pageviews:>10}{page.visitors:>10}")
