"""``apply()``: count a batch of page views into every rollup, in the caller's transaction.

The one write path of statistics: embedded mode calls it per request (DatabaseSink),
Redis mode per flushed batch. All counters are added with per-dialect upserts, and
visitor sets with insert-if-missing, so concurrent writers never lose or double a count.
Ids of paths and dimension values come from :mod:`page_tracker.stats.ids`, who is new
from :mod:`page_tracker.stats.visitor_sets`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from operator import attrgetter
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from page_tracker.db import add_rows_to_counters
from page_tracker.stats import page_years
from page_tracker.stats.ids import IdCache, chunks, resolve_ids
from page_tracker.stats.models import (
    MAX_VALUE_LENGTH,
    SITE,
    DailyCount,
    DailyDimensionCount,
    DailyPathDimensionCount,
    Dimension,
    Hit,
    HourlyCount,
    MonthlyCount,
    Path,
    Total,
    month_of,
)
from page_tracker.stats.pageview import PageView
from page_tracker.stats.visitor_sets import add_visitors

# Dimension kinds: the enrichment's fields, counted per day in stat_daily_dimensions,
# and the view's custom event.
DIMENSIONS = (
    "browser",
    "os",
    "device",
    "country",
    "referrer_host",
    "referrer_source",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "screen_class",
)
# The kinds also counted per page and day (stat_daily_path_dimensions): those the stats
# API and the dashboard list and filter by. Only these, since each adds a row per view.
PATH_DIMENSIONS = frozenset(
    {
        "browser",
        "os",
        "device",
        "country",
        "referrer_host",
        "utm_source",
        "utm_medium",
        "utm_campaign",
        "utm_term",
        "utm_content",
    }
)
# The path of a daily visitor's first view of the site (its "entrance" that UTC day),
# counted in stat_daily_dimensions by :func:`_add_entrances`, not by _dimension_values:
# it depends on the visitor sets, not on the view alone.
ENTRY_PAGE = "entry_page"


def _dimension_values(view: PageView) -> Iterator[tuple[str, str]]:
    found = view.enrichment
    for kind in DIMENSIONS:
        value = getattr(found, kind)
        if value:
            yield kind, str(value)[:MAX_VALUE_LENGTH]
    if view.event:
        yield "event", view.event[:MAX_VALUE_LENGTH]
    if found.browser_version:
        yield "browser_version", f"{found.browser} {found.browser_version}"[:MAX_VALUE_LENGTH]
    if found.os_version:
        yield "os_version", f"{found.os} {found.os_version}"[:MAX_VALUE_LENGTH]


def _path_ids(
    session: Session, views: Sequence[PageView], cache: IdCache
) -> dict[tuple[str, str], int]:
    titles = {(v.site_id, v.path): v.title[:MAX_VALUE_LENGTH] if v.title else None for v in views}
    return resolve_ids(session, titles, Path, cache, titles=titles)


# What a batch added to the all-time totals: ``(site id, path)`` (``None``: the whole
# site) -> ``(page views, new visitors)``.
TotalsAdded = dict[tuple[str, str | None], tuple[int, int]]


def apply(session: Session, views: Sequence[PageView], cache: IdCache | None = None) -> TotalsAdded:
    """Add ``views`` to every rollup in ``session``'s transaction (the caller commits);
    return what they added to the all-time totals (``stat_totals``), by site and page.

    Exact: each view adds one page view to its hour, day, dimensions (site-wide and, for
    :data:`PATH_DIMENSIONS`, of its page) and totals; a visitor adds one to a day's (or
    all time's) uniques only the first time it is seen there, and that first view of the
    site's day is the visitor's entrance (one page view and one visitor of its path in the
    ``entry_page`` dimension). Within a batch "first" is the earliest (views of several
    batches flushed together need not be in time order); across batches it is the first
    counted, as the visitor sets say. Statements are batched, so the cost per view falls
    with the batch size.
    """
    if not views:
        return {}
    cache = cache or IdCache()
    views = sorted(views, key=attrgetter("timestamp"))  # stable: ties keep their order
    path_ids = _path_ids(session, views, cache)
    dimension_ids = resolve_ids(
        session, (pair for v in views for pair in _dimension_values(v)), Dimension, cache
    )
    new_daily, new_lifetime = add_visitors(session, views, path_ids)
    counts = _count(views, path_ids, dimension_ids, new_daily, new_lifetime)
    _add_entrances(session, counts.entrances, counts.dims, counts.dims_uv, cache)
    _write(session, counts)
    return _totals_added(counts, path_ids)


def _totals_added(c: _Counts, path_ids: dict[tuple[str, str], int]) -> TotalsAdded:
    paths = {(site, path_id): path for (site, path), path_id in path_ids.items()}
    added: TotalsAdded = {}
    for (site, path_id), count in c.totals.items():
        path = None if path_id == SITE else paths[(site, path_id)]
        added[(site, path)] = (count, c.totals_uv[(site, path_id)])
    return added


@dataclass(slots=True)
class _Counts:
    """What a batch adds, by rollup row key: page views, and (``_uv``) new visitors."""

    hourly: Counter[tuple[Any, ...]] = field(default_factory=Counter)
    hourly_uv: Counter[tuple[Any, ...]] = field(default_factory=Counter)
    daily: Counter[tuple[Any, ...]] = field(default_factory=Counter)
    daily_uv: Counter[tuple[Any, ...]] = field(default_factory=Counter)
    dims: Counter[tuple[Any, ...]] = field(default_factory=Counter)
    dims_uv: Counter[tuple[Any, ...]] = field(default_factory=Counter)
    page_dims: Counter[tuple[Any, ...]] = field(default_factory=Counter)
    page_dims_uv: Counter[tuple[Any, ...]] = field(default_factory=Counter)
    totals: Counter[tuple[Any, ...]] = field(default_factory=Counter)
    totals_uv: Counter[tuple[Any, ...]] = field(default_factory=Counter)
    entrances: Counter[tuple[str, date, str]] = field(default_factory=Counter)
    raw_hits: list[dict[str, Any]] = field(default_factory=list)


def _count(
    views: Sequence[PageView],
    path_ids: dict[tuple[str, str], int],
    dimension_ids: dict[tuple[str, str], int],
    new_daily: set[tuple[Any, ...]],
    new_lifetime: set[tuple[Any, ...]],
) -> _Counts:
    """The batch's counts; a visitor is credited at its first view in ``new_daily`` (a
    day's, site-wide or a page's) or ``new_lifetime`` (all time), both emptied on the way."""
    c = _Counts()
    for view in views:
        path_id = path_ids[(view.site_id, view.path)]
        site, day = view.site_id, view.day
        pairs = list(_dimension_values(view))
        values = [(site, day, dimension_ids[pair]) for pair in pairs]
        crossed = [
            (site, day, path_id, dimension_ids[pair])
            for pair in pairs
            if pair[0] in PATH_DIMENSIONS
        ]
        for pid in (SITE, path_id):
            visit = (site, day, pid, view.visitor)
            if visit in new_daily:  # first view of this visitor here today (credit once)
                new_daily.discard(visit)
                c.daily_uv[(site, day, pid)] += 1
                c.hourly_uv[(site, pid, view.hour)] += 1
                if pid == SITE:  # dimensions credit a visitor's first view of the day
                    c.dims_uv.update(values)
                    c.entrances[(site, day, view.path[:MAX_VALUE_LENGTH])] += 1
                else:  # ... and, per page, their first view of the page that day
                    c.page_dims_uv.update(crossed)
            c.hourly[(site, pid, view.hour)] += 1
            c.daily[(site, day, pid)] += 1
            c.totals[(site, pid)] += 1
            lifetime = (site, pid, view.lifetime_visitor)
            if lifetime in new_lifetime:
                new_lifetime.discard(lifetime)
                c.totals_uv[(site, pid)] += 1
        c.dims.update(values)
        c.page_dims.update(crossed)
        if view.keep_raw:
            c.raw_hits.append(_raw_hit(view, path_id))
    return c


def _write(session: Session, c: _Counts) -> None:
    _add(session, HourlyCount, ("site_id", "path_id", "hour"), c.hourly, c.hourly_uv)
    _add(session, DailyCount, ("site_id", "day", "path_id"), c.daily, c.daily_uv)
    monthly, monthly_uv = by_month(c.daily), by_month(c.daily_uv)
    _add(session, MonthlyCount, ("site_id", "month", "path_id"), monthly, monthly_uv)
    page_years.mark(session, ((*key, v, monthly_uv[key]) for key, v in monthly.items()))
    _add(session, DailyDimensionCount, ("site_id", "day", "dimension_id"), c.dims, c.dims_uv)
    page_keys = ("site_id", "day", "path_id", "dimension_id")
    _add(session, DailyPathDimensionCount, page_keys, c.page_dims, c.page_dims_uv)
    _add(session, Total, ("site_id", "path_id"), c.totals, c.totals_uv)
    for chunk in chunks(c.raw_hits):
        session.execute(insert(Hit), list(chunk))


def _add_entrances(
    session: Session,
    entrances: Counter[tuple[str, date, str]],
    dims: Counter[tuple[Any, ...]],
    dims_uv: Counter[tuple[Any, ...]],
    cache: IdCache,
) -> None:
    """Add each ``(site, day, path)`` entrance to the ``entry_page`` dimension: as many
    page views as visitors (a visitor enters a site once a UTC day). Its dimension rows
    are resolved after the visitor sets, for the entry paths only."""
    if not entrances:
        return
    ids = resolve_ids(
        session, ((ENTRY_PAGE, path) for _site, _day, path in entrances), Dimension, cache
    )
    for (site, day, path), count in entrances.items():
        key = (site, day, ids[(ENTRY_PAGE, path)])
        dims[key] += count
        dims_uv[key] += count


def by_month(daily: Counter[tuple[Any, ...]]) -> Counter[tuple[Any, ...]]:
    """``(site, day, path_id)`` counts summed into ``(site, month, path_id)``: the monthly
    rollup is always written from the very numbers added to the daily one."""
    monthly: Counter[tuple[Any, ...]] = Counter()
    for (site, day, path_id), count in daily.items():
        monthly[(site, month_of(day), path_id)] += count
    return monthly


def _add(
    session: Session,
    model: type[Any],
    keys: tuple[str, ...],
    pageviews: Counter[tuple[Any, ...]],
    visitors: Counter[tuple[Any, ...]],
) -> None:
    # Sorted keys: concurrent batches lock rows in the same order (no deadlocks); a
    # table's keys are tuples of one shape (text, dates, ids), compared as they are (the
    # repr() of every key was 4 - 5 % of the GIL under load, bench/README.md). Rows go
    # as tuples through the upsert compiled once (the imports' bulk write): SQLAlchemy's
    # per-row handling of dict parameters cost more than SQLite's upserts themselves.
    columns = (*keys, "pageviews", "visitors")
    extra: tuple[int, ...] = ()
    if model is Total:  # its imported uniques: 0 in a new row, never changed by a hit
        columns, extra = (*columns, "imported_visitors"), (0,)
    rows = [(*key, pageviews[key], visitors[key], *extra) for key in sorted(pageviews)]
    for chunk in chunks(rows):
        add_rows_to_counters(
            session,
            model.__table__,
            keys,
            chunk,
            columns=columns,
            increment_columns=("pageviews", "visitors"),
        )


def _raw_hit(view: PageView, path_id: int) -> dict[str, Any]:
    found = view.enrichment
    return {
        "site_id": view.site_id,
        "path_id": path_id,
        "timestamp": view.timestamp.replace(tzinfo=None),
        "visitor": view.visitor,
        "event": view.event,
        "source": view.source,
        "browser": found.browser,
        "os": found.os,
        "device": found.device,
        "country": found.country,
        "referrer_host": found.referrer_host,
        "screen_class": found.screen_class,
    }
