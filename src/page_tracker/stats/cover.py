"""Split a span of UTC time into the coarsest rollups that add up to it exactly.

``stat_monthly`` holds whole UTC months, ``stat_daily`` whole UTC days and
``stat_hourly`` UTC hours, and the write path keeps each the sum of the finer one (a
month is its days, a day its hours). So any span of whole UTC hours is answered exactly
by the whole months inside it, the whole days left at its edges and the hours left at
theirs: a year of top pages reads 12 rows a page instead of 365 (or 8 760).

Hours are counted by their start, as the hourly rollup is: a span whose ends are not on
the hour (Asia/Kolkata's midnight is 18:30 UTC) takes the hours that start inside it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Cover:
    """Disjoint pieces of a span: ``months`` and ``days`` as inclusive ranges of first
    days of months and of days, ``hours`` as half-open ranges of naive UTC hours."""

    months: list[tuple[date, date]] = field(default_factory=list)
    days: list[tuple[date, date]] = field(default_factory=list)
    hours: list[tuple[datetime, datetime]] = field(default_factory=list)


def _ceil_hour(moment: datetime) -> datetime:
    floor = moment.replace(minute=0, second=0, microsecond=0)
    return floor if floor == moment else floor + HOUR


def _ceil_day(moment: datetime) -> date:
    day = moment.date()
    return day if moment.time() == time() else day + DAY


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _ceil_month(day: date) -> date:
    return day if day.day == 1 else _next_month(day)


def _previous_month(day: date) -> date:
    return date(day.year - (day.month == 1), (day.month - 2) % 12 + 1, 1)


def cover(low: datetime, high: datetime, *, months: bool = True) -> Cover:
    """The pieces of the naive UTC span ``[low, high)`` (hours starting in it), with
    whole months only when ``months``."""
    first_hour, stop_hour = _ceil_hour(low), _ceil_hour(high)
    if stop_hour <= first_hour:
        return Cover()
    first_day = _ceil_day(first_hour)
    stop_day = stop_hour.date()  # days before it are whole
    if first_day >= stop_day:
        return Cover(hours=[(first_hour, stop_hour)])
    found = Cover()
    edge_hours = [
        (first_hour, datetime.combine(first_day, time())),
        (datetime.combine(stop_day, time()), stop_hour),
    ]
    found.hours.extend((a, b) for a, b in edge_hours if a < b)
    first_month = _ceil_month(first_day)
    stop_month = date(stop_day.year, stop_day.month, 1)  # months before it are whole
    if not months or first_month >= stop_month:
        found.days.append((first_day, stop_day - DAY))
        return found
    found.months.append((first_month, _previous_month(stop_month)))
    edge_days = [(first_day, first_month - DAY), (stop_month, stop_day - DAY)]
    found.days.extend((a, b) for a, b in edge_days if a <= b)
    return found
