"""Hourly rows summed by local day (or month) in SQL, for series in a zone other than UTC.

A year in Europe/Berlin is 8 760 hourly rows; sending them all to Python to put each in
its local day cost more than the query (psycopg and, worse, PyMySQL build a row and a
datetime each). The hours are instead cut into spans of one UTC offset
(:func:`offset_spans`: two or three a year in a zone with DST), and each span is summed
in SQL by the local date of its hours' starts (``hour + offset``): a row a local day, as
the hour-by-hour bucketing in :mod:`page_tracker.stats.report` puts them (a UTC hour
belongs to the local day its start falls in).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Date,
    cast,
    func,
    literal_column,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import Session

HOUR: Final = timedelta(hours=1)
# Offsets are compared this far apart and searched hour by hour in between when they
# differ: no zone changes its offset twice within six hours (tzdata 2000 - 2100).
STEP: Final = timedelta(hours=6)


def _offset(hour: datetime, zone: ZoneInfo) -> int:
    """The UTC offset, in minutes, of the naive UTC ``hour`` in ``zone``."""
    offset = hour.replace(tzinfo=UTC).astimezone(zone).utcoffset()
    return int(offset.total_seconds() // 60) if offset is not None else 0


def _ceil_hour(moment: datetime) -> datetime:
    floor = moment.replace(minute=0, second=0, microsecond=0)
    return floor if floor == moment else floor + HOUR


@lru_cache(maxsize=1024)
def _changes(zone: ZoneInfo, year: int) -> tuple[tuple[datetime, int], ...]:
    """The naive UTC hours of ``year`` whose offset in ``zone`` differs from the hour's
    before, with their offset (minutes), in order. Kept per zone and year: probing a
    year six hours at a time is ~1 500 conversions (2 - 8 ms a zoned year's series,
    bench/README.md), and a zone's changes never move while the process runs."""
    probe, stop = datetime(year, 1, 1) - HOUR, datetime(year + 1, 1, 1) - HOUR
    current = _offset(probe, zone)
    found: list[tuple[datetime, int]] = []
    while probe < stop:
        ahead = min(probe + STEP, stop)
        if _offset(ahead, zone) == current:
            probe = ahead
            continue
        change = probe + HOUR  # the first hour of the new offset, at most ``ahead``
        while _offset(change, zone) == current:
            change += HOUR
        current = _offset(change, zone)
        found.append((change, current))
        probe = change
    return tuple(found)


def offset_spans(
    low: datetime, high: datetime, zone: ZoneInfo
) -> list[tuple[datetime, datetime, int]]:
    """The naive UTC hours starting in ``[low, high)`` as ``[start, stop)`` spans of one
    UTC offset (minutes) each, in order."""
    first, last = _ceil_hour(low), _ceil_hour(high) - HOUR  # the first and last hour
    if first > last:
        return []
    spans: list[tuple[datetime, datetime, int]] = []
    start, current = first, _offset(first, zone)
    for year in range(first.year, last.year + 1):
        for change, minutes in _changes(zone, year):
            if first < change <= last:
                spans.append((start, change, current))
                start, current = change, minutes
    spans.append((start, high, current))
    return spans


def _local_date(dialect: str, moment: Any, minutes: int) -> ColumnElement[date]:
    # ``minutes`` is an int computed here, never input: safe as literal SQL.
    if dialect == "postgresql":
        shifted = moment + literal_column(f"INTERVAL '{minutes} minutes'")
        return cast(shifted, Date)
    if dialect == "mysql":
        return type_coerce(
            func.date(func.date_add(moment, literal_column(f"INTERVAL {minutes} MINUTE"))), Date
        )
    return type_coerce(func.date(moment, f"{minutes:+d} minutes"), Date)


def local_day_sums(
    dialect: str,
    table: Any,
    where: ColumnElement[bool],
    *,
    low: datetime,
    high: datetime,
    zone: ZoneInfo,
) -> list[Any]:
    """Selects of (local date, page views, visitors) of ``table``'s rows matching
    ``where`` whose hour starts in ``[low, high)``, one a span of one offset (to be
    unioned; a date may come in two rows: a span ends that day)."""
    parts: list[Any] = []
    for start, stop, minutes in offset_spans(low, high, zone):
        rows = (
            select(
                _local_date(dialect, table.hour, minutes).label("day"),
                table.pageviews.label("pv"),
                table.visitors.label("uv"),
            )
            .where(where, table.hour >= start, table.hour < stop)
            .subquery()
        )
        parts.append(
            select(rows.c.day, func.sum(rows.c.pv), func.sum(rows.c.uv)).group_by(rows.c.day)
        )
    return parts


def sums_by_local_day(
    session: Session,
    table: Any,
    where: ColumnElement[bool],
    *,
    low: datetime,
    high: datetime,
    zone: ZoneInfo,
) -> list[tuple[date, int, int]]:
    """(local date, page views, visitors) of ``table``'s rows matching ``where`` whose
    hour starts in ``[low, high)``; a date may come in two rows (a span ends that day)."""
    dialect = session.get_bind().dialect.name
    parts = local_day_sums(dialect, table, where, low=low, high=high, zone=zone)
    if not parts:
        return []
    query: Any = union_all(*parts) if len(parts) > 1 else parts[0]
    return [(day, int(pv), int(uv)) for day, pv, uv in session.execute(query)]
