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
from page_tracker.stats.counters import COUNTERS
from page_tracker.terminal import terminal_safe


@click.command("stats")
@click.argument("site_id")
@click.option(
    "--days", type=click.IntRange(1, 366), default=7, show_default=True, help="Days to list."
)
@click.option("--top", type=click.IntRange(0, 100), default=10, show_default=True)
@click.option("--tz", default="UTC", show_default=True, help="IANA time zone of the days.")
@with_appcontext
def stats(site_id: str, days: int, top: int, tz: str) -> None:
    """Print a site's all-time totals, its last DAYS days and its top pages."""
    session = get_session()
    try:
        site = get_site(session, site_id)
        if site is None:
            fail(f"no site {site_id!r} (page-tracker sites list shows the ids)")
        end = report.make_range(None, None, tz, report.Interval.DAY).end  # today there
        rng = report.make_range(end - timedelta(days=days - 1), end, tz, report.Interval.DAY)
        totals = COUNTERS.get().read(site_id, "/")
        series = report.summary(session, site_id, rng, report.Interval.DAY).series
        pages = report.breakdown(session, site_id, rng, "pages", limit=top).items if top else []
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
    if pages:
        click.echo(f"\n{'top pages':<40}{'views':>10}{'visitors':>10}")
        for page in pages:
            # Paths come from readers: escaped, then cut to the column.
            path = terminal_safe(page.value)[:39]
            click.echo(f"{path:<40}{page.pageviews:>10}{page.visitors:>10}")
