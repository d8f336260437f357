"""What a site's statistics say over a range of local dates, in any IANA time zone:
totals, the series and freshness.

The stats API's and ``page-tracker stats``' reads of totals and series. It reads the rollups
only, never raw hits:

- in UTC (or a zone that is always UTC), days and months come from ``stat_daily`` and
  dimensions from ``stat_daily_dimensions``;
- in any other zone, and for hours, the UTC hours of ``stat_hourly`` are put in the local
  hour, day or month they start in. A local day is whatever hours it has: 23 on the day
  clocks go forward, 25 on the day they go back. Zones whose offset is not a whole hour
  (Asia/Kolkata) get each UTC hour in the local period its first minute falls in.

Visitors are daily unique visitors (the visitor hash changes with the UTC day's salt), and
a visitor counts in the hour of their first view of that UTC day, so the hours of a UTC
day add up to its daily uniques and a range's visitors are the sum of its days'.

Filters (:class:`~page_tracker.stats.filters.Filter`): ``page`` works everywhere
(per-page rollups); ``referrer``, ``country``, ``device``, ``browser``, ``os``,
``campaign`` (utm_campaign) and ``entry_page`` only on whole UTC days (``interval`` day
or month with a UTC zone), because dimensions are counted per UTC day. A page filter and
one dimension filter combine (``stat_daily_path_dimensions`` crosses pages with each
dimension but ``entry_page``). Ranges and zones are :mod:`page_tracker.stats.ranges`'s,
the tables (pages, referrers, ..., entry pages) :mod:`page_tracker.stats.breakdowns`'.

Entry pages (filter ``entry_page``) are the paths of the visitors' first views of the
site each UTC day: their page views are entrances, as many as their visitors
(:func:`page_tracker.stats.rollup.apply`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, func, literal_column, null, select, union_all
from sqlalchemy.orm import Session

from page_tracker.errors import Unprocessable
from page_tracker.stats import queries
from page_tracker.stats.filters import Filter
from page_tracker.stats.live import LiveVisitors
from page_tracker.stats.local_days import local_day_sums
from page_tracker.stats.models import (
    SITE,
    DailyCount,
    DailyDimensionCount,
    DailyPathDimensionCount,
    HourlyCount,
)
from page_tracker.stats.ranges import HOUR, Interval, Range, utc_midnight


@dataclass(frozen=True, slots=True)
class Point:
    period: str  # "2026-03-29T02:00:00+02:00", "2026-03-29" or "2026-03"
    start: datetime  # aware, in the zone
    pageviews: int
    visitors: int


@dataclass(frozen=True, slots=True)
class Totals:
    pageviews: int
    visitors: int


@dataclass(frozen=True, slots=True)
class Summary:
    totals: Totals
    previous: Totals
    series: list[Point]


def _change(now: int, before: int) -> float | None:
    """Percent change, ``None`` when there was nothing before."""
    return None if before == 0 else round((now - before) * 100 / before, 1)


def change(summary: Summary) -> tuple[float | None, float | None]:
    """Percent change of page views and visitors against the previous period."""
    return (
        _change(summary.totals.pageviews, summary.previous.pageviews),
        _change(summary.totals.visitors, summary.previous.visitors),
    )


def _source(
    session: Session, site_id: str, rng: Range, interval: Interval, where: Filter
) -> tuple[Any, ColumnElement[bool]] | None:
    """The rollup that answers the range (and the period before it) exactly and the
    condition of its rows wanted (``None``: nothing to read)."""
    by_day = rng.utc_aligned and interval is not Interval.HOUR
    if where.kind is not None:
        if not by_day:
            raise Unprocessable(
                "the referrer, country, device, browser, os, campaign and entry_page "
                "filters count whole UTC days: "
                "use tz=UTC with interval=day or month"
            )
        dimension = queries.dimension_id(session, where.kind, where.value or "")
        if dimension is None:
            return None
        table: Any = DailyDimensionCount
        wanted: ColumnElement[bool] = DailyDimensionCount.dimension_id == dimension
        if where.page is not None:  # one page's views with the value
            path_id = queries.path_id(session, site_id, where.page)
            if path_id is None:
                return None
            table = DailyPathDimensionCount
            wanted = (table.dimension_id == dimension) & (table.path_id == path_id)
    else:
        path_id = SITE if where.page is None else queries.path_id(session, site_id, where.page)
        if path_id is None:
            return None
        table = DailyCount if by_day else HourlyCount
        wanted = table.path_id == path_id
    return table, (table.site_id == site_id) & wanted


def _in_range(table: Any, rng: Range) -> ColumnElement[bool]:
    """The condition of ``table``'s rows in the range."""
    if table is not HourlyCount:
        # Each day by key, not a range of days: the daily keys lead with the day, so a
        # range reads every page's (or value's) row of every day to find the one wanted
        # (PostgreSQL scanned 730 000 rows for a year's 365, bench/README.md).
        days: ColumnElement[bool] = table.day.in_(
            [rng.start + timedelta(days=n) for n in range(rng.days)]
        )
        return days
    low, high = rng.utc_bounds()
    hours: ColumnElement[bool] = (table.hour >= low) & (table.hour < high)
    return hours


def _counts(
    session: Session, site_id: str, rng: Range, interval: Interval, where: Filter
) -> tuple[list[tuple[Any, int, int]], Totals]:
    """(UTC hour, UTC day or, for days and months outside UTC, local day; page views,
    visitors) rows of the range, from the rollup that answers it exactly, and the totals
    of the period before it: one statement (a union), where the previous period's
    ``SUM`` was a second round trip."""
    found = _source(session, site_id, rng, interval, where)
    if found is None:
        return [], Totals(0, 0)
    table, wanted = found
    if table is HourlyCount and interval is not Interval.HOUR:
        low, high = rng.utc_bounds()
        dialect = session.get_bind().dialect.name
        parts = local_day_sums(dialect, table, wanted, low=low, high=high, zone=rng.zone)
    else:
        moment = table.day if table is not HourlyCount else table.hour
        parts = [
            select(moment, table.pageviews, table.visitors).where(wanted, _in_range(table, rng))
        ]
    # ``part``: 0 for the range's rows, 1 for the previous period's sums (SQL constants).
    parts = [part.add_columns(literal_column("0").label("part")) for part in parts]
    before = select(
        null(),
        func.sum(table.pageviews),
        func.sum(table.visitors),
        literal_column("1").label("part"),
    ).where(wanted, _in_range(table, rng.previous()))
    rows: list[tuple[Any, int, int]] = []
    previous = Totals(0, 0)
    for when, pv, uv, part in session.execute(union_all(*parts, before)):
        if int(part):
            previous = Totals(int(pv or 0), int(uv or 0))
        else:
            rows.append((when, int(pv), int(uv)))
    return rows, previous


@lru_cache(maxsize=32)
def _periods(rng: Range, interval: Interval) -> tuple[tuple[Any, str, datetime], ...]:
    """Every period of the range (key, label, aware start), gaps included. Kept per
    range: a zoned year is 365 conversions of local midnights (1.5 ms), the same each
    time its report is read again after a write dropped it from the cache. Few kept: a
    ten-year range by day is ~1 MB of periods, and any signed-in user picks the ranges."""
    return tuple(_each_period(rng, interval))


def _each_period(rng: Range, interval: Interval) -> Iterator[tuple[Any, str, datetime]]:
    zone = rng.zone
    if interval is Interval.HOUR:
        hour, stop = rng.utc_bounds()
        while hour < stop:
            local = hour.replace(tzinfo=UTC).astimezone(zone)
            yield hour, local.isoformat(), local
            hour += HOUR
        return
    day = rng.start
    while day <= rng.end:
        start = utc_midnight(day, zone).replace(tzinfo=UTC).astimezone(zone)
        if interval is Interval.DAY:
            yield day, day.isoformat(), start
            day += timedelta(days=1)
        else:
            yield (day.year, day.month), f"{day.year:04d}-{day.month:02d}", start
            day = date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _key(when: Any, rng: Range, interval: Interval) -> Any:
    """The period key of a row's UTC hour (datetime) or UTC day (date)."""
    if isinstance(when, datetime):
        if interval is Interval.HOUR:
            return when
        local = when.replace(tzinfo=UTC).astimezone(rng.zone).date()
    else:
        local = when
    return local if interval is Interval.DAY else (local.year, local.month)


def _sum(rows: Iterable[tuple[Any, int, int]]) -> Totals:
    pageviews = visitors = 0
    for _when, pv, uv in rows:
        pageviews += pv
        visitors += uv
    return Totals(pageviews, visitors)


def summary(
    session: Session, site_id: str, rng: Range, interval: Interval, where: Filter | None = None
) -> Summary:
    """Totals of the range and of the period before it, and the series by ``interval``."""
    where = where or Filter()
    rows, before = _counts(session, site_id, rng, interval, where)
    buckets: dict[Any, list[int]] = {}
    for when, pv, uv in rows:
        bucket = buckets.setdefault(_key(when, rng, interval), [0, 0])
        bucket[0] += pv
        bucket[1] += uv
    series = [
        Point(label, start, *buckets.get(key, (0, 0)))
        for key, label, start in _periods(rng, interval)
    ]
    return Summary(_sum(rows), before, series)


@dataclass(frozen=True, slots=True)
class Freshness:
    unflushed_pageviews: int | None  # received, not in the rollups yet (None: unknown)
    last_counted_hour: datetime | None  # UTC start of the latest hour with a view


def last_counted_hour(session: Session, site_id: str) -> datetime | None:
    """The UTC start of the latest hour with a view of the site in the rollups."""
    last = session.scalar(
        select(func.max(HourlyCount.hour)).where(
            HourlyCount.site_id == site_id, HourlyCount.path_id == SITE
        )
    )
    return last.replace(tzinfo=UTC) if last else None


def freshness(session: Session, site_id: str, live: LiveVisitors) -> Freshness:
    """How current the rollups are: the page views still waiting for the flush (Redis
    mode) and the latest hour counted."""
    return Freshness(live.unflushed_pageviews(site_id), last_counted_hour(session, site_id))
