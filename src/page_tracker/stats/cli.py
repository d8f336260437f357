"""``page-tracker stats SITE_ID``: a site's numbers in the terminal (the stats API's
service, :mod:`page_tracker.stats.report`)."""

from __future__ import annotations

from datetime import timedelta

import click
from flask.cli import with_appcontext
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from page_tracker.cli_errors import fail
from page_tracker.db import get_session
from page_tracker.errors import APIError, StoreError
from page_tracker.sites.services import get_site
from page_tracker.stats import report
from page_tracker.stats.breakdowns import Item, breakdown
from page_tracker.stats.counters import COUNTERS
from page_tracker.stats.ranges import Interval, make_range
from page_tracker.terminal import terminal_safe


@click.command("stats")
@click.argument("site_id")
@click.option(
    "--days", type=click.IntRange(1, 366), default=7, show_default=True, help="Days to list."
)
@click.option("--top", type=click.IntRange(0, 100), default=10, show_default=True)
@click.option("--tz", default="UTC", show_default=True, help="IANA time zone of the days.")
@click.option(
    "--entry-pages",
    is_flag=True,
    help="Also list the top entry pages (where visitors entered the site, UTC days).",
)
@with_appcontext
def stats(site_id: str, days: int, top: int, tz: str, entry_pages: bool) -> None:
    """Print a site's all-time totals, its last DAYS days and its top pages (and entry
    pages)."""
    session = get_session()
    try:
        site = get_site(session, site_id)
        if site is None:
            fail(f"no site {site_id!r} (page-tracker sites list shows the ids)")
        end = make_range(None, None, tz, Interval.DAY).end  # today there
        rng = make_range(end - timedelta(days=days - 1), end, tz, Interval.DAY)
        totals = COUNTERS.get().read(site_id, "/")
        series = report.summary(session, site_id, rng, Interval.DAY).series
        pages = breakdown(session, site_id, rng, "pages", limit=top).items if top else []
        entries = (
            breakdown(session, site_id, rng, "entry_pages", limit=top).items
            if top and entry_pages
            else []
        )
    except APIError as error:
        fail(error.message)
    except (SQLAlchemyError, RedisError, StoreError) as error:
        fail(f"store error: {str(error).splitlines()[0]}")
    click.echo(
        f"{terminal_safe(site.domain)} ({site.id}): {totals.site_pv} page views, "
        f"{totals.site_uv} visitors all time"
    )
    click.echo(f"\n{'day':<12}{'views':>10}{'visitors':>10}")
    for point in series:
        click.echo(f"{point.period:<12}{point.pageviews:>10}{point.visitors:>10}")
    _table(("top pages", "views", "visitors"), pages)
    _table(("entry pages", "entrances", "visitors"), entries)


def _table(header: tuple[str, str, str], items: list[Item]) -> None:
    if not items:
        return
    name, first, second = header
    click.echo(f"\n{name:<40}{first:>10}{second:>10}")
    for item in items:
        # Paths come from readers: escaped, then cut to the column.
        path = terminal_safe(item.value)[:39]
        click.echo(f"{path:<40}{item.pageviews:>10}{item.visitors:>10}")
