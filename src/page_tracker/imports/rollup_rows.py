"""A site's rollups as plain rows: what the exports write and our own import reads back.

A :class:`RollupRow` is one row of one rollup, with path text and dimension kind/value
instead of ids: ``hourly`` (path, or ``""`` for the whole site; hour), ``daily`` (path
or ``""``; day), ``dimension`` (kind, value, day), ``page_dimension`` (path, kind, value,
day: the page x dimension rollup) and ``total`` (path or ``""``). Read in key
order, a chunk at a time (memory stays flat).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from page_tracker.stats.models import (
    SITE,
    DailyCount,
    DailyDimensionCount,
    DailyPathDimensionCount,
    Dimension,
    HourlyCount,
    Path,
    Total,
)

TABLES = ("hourly", "daily", "dimension", "page_dimension", "total")
READ_CHUNK = 5000


@dataclass(frozen=True, slots=True)
class RollupRow:
    table: str  # one of TABLES
    path: str = ""  # "" is the whole site
    kind: str = ""
    value: str = ""
    day: date | None = None
    hour: datetime | None = None
    pageviews: int = 0
    visitors: int = 0


def _days(column: Any, start: date | None, end: date | None) -> list[Any]:
    conditions = []
    if start is not None:
        conditions.append(column >= start)
    if end is not None:
        conditions.append(column <= end)
    return conditions


def _stream(session: Session, query: Select[*tuple[Any, ...]]) -> Iterator[Any]:
    yield from session.execute(query.execution_options(yield_per=READ_CHUNK))


def rollup_rows(
    session: Session, site_id: str, start: date | None = None, end: date | None = None
) -> Iterator[RollupRow]:
    """Every rollup row of ``site_id`` (days ``start`` to ``end`` inclusive when given).

    Without a range the totals are the stored all-time totals (which may hold counts
    that have no day, such as Busuanzi's); with one they are the sums of the range's
    daily rows.
    """
    path_text = select(Path.path).where(Path.id == HourlyCount.path_id).scalar_subquery()
    hourly = (
        select(path_text, HourlyCount.hour, HourlyCount.pageviews, HourlyCount.visitors)
        # the whole site's hours too (path 0, no path text): its visitors are not the
        # sum of the pages' (a visitor of two pages is one of the site)
        .where(HourlyCount.site_id == site_id)
        .order_by(HourlyCount.hour, HourlyCount.path_id)
    )
    if start is not None:
        hourly = hourly.where(HourlyCount.hour >= datetime.combine(start, time()))
    if end is not None:
        hourly = hourly.where(HourlyCount.hour < datetime.combine(end + timedelta(days=1), time()))
    for path, hour, views, visitors in _stream(session, hourly):
        yield RollupRow("hourly", path=path or "", hour=hour, pageviews=views, visitors=visitors)

    daily = (
        select(DailyCount.day, DailyCount.path_id, Path.path, DailyCount.pageviews,
               DailyCount.visitors)
        .outerjoin(Path, Path.id == DailyCount.path_id)
        .where(DailyCount.site_id == site_id, *_days(DailyCount.day, start, end))
        .order_by(DailyCount.day, DailyCount.path_id)
    )  # fmt: skip
    for day, path_id, path, views, visitors in _stream(session, daily):
        text = "" if path_id == SITE else path
        yield RollupRow("daily", path=text, day=day, pageviews=views, visitors=visitors)

    dimensions = (
        select(DailyDimensionCount.day, Dimension.kind, Dimension.value,
               DailyDimensionCount.pageviews, DailyDimensionCount.visitors)
        .join(Dimension, Dimension.id == DailyDimensionCount.dimension_id)
        .where(DailyDimensionCount.site_id == site_id)
        .where(*_days(DailyDimensionCount.day, start, end))
        .order_by(DailyDimensionCount.day, Dimension.kind, Dimension.value)
    )  # fmt: skip
    for day, kind, value, views, visitors in _stream(session, dimensions):
        yield RollupRow(
            "dimension", kind=kind, value=value, day=day, pageviews=views, visitors=visitors
        )

    yield from _page_dimensions(session, site_id, start, end)
    yield from _totals(session, site_id, start, end)


def _page_dimensions(
    session: Session, site_id: str, start: date | None, end: date | None
) -> Iterator[RollupRow]:
    crossed = DailyPathDimensionCount
    query = (
        select(crossed.day, Path.path, Dimension.kind, Dimension.value, crossed.pageviews,
               crossed.visitors)
        .join(Path, Path.id == crossed.path_id)
        .join(Dimension, Dimension.id == crossed.dimension_id)
        .where(crossed.site_id == site_id, *_days(crossed.day, start, end))
        .order_by(crossed.day, Path.path, Dimension.kind, Dimension.value)
    )  # fmt: skip
    for day, path, kind, value, views, visitors in _stream(session, query):
        yield RollupRow(
            "page_dimension", path=path, kind=kind, value=value, day=day, pageviews=views,
            visitors=visitors,
        )  # fmt: skip


def _totals(
    session: Session, site_id: str, start: date | None, end: date | None
) -> Iterator[RollupRow]:
    if start is None and end is None:
        query = (
            select(Total.path_id, Path.path, Total.pageviews, Total.visitors)
            .outerjoin(Path, Path.id == Total.path_id)
            .where(Total.site_id == site_id)
            .order_by(Total.path_id)
        )
    else:
        query = (
            select(DailyCount.path_id, Path.path, func.sum(DailyCount.pageviews),
                   func.sum(DailyCount.visitors))
            .outerjoin(Path, Path.id == DailyCount.path_id)
            .where(DailyCount.site_id == site_id)
            .where(*_days(DailyCount.day, start, end))
            .group_by(DailyCount.path_id, Path.path)
            .order_by(DailyCount.path_id)
        )  # fmt: skip
    for path_id, path, views, visitors in _stream(session, query):
        text = "" if path_id == SITE else path
        yield RollupRow("total", path=text, pageviews=int(views), visitors=int(visitors))
