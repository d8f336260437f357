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


# What a piece costs to read, in rows of a page (a page has about one row a month or a
# year, and is seen on some of a month's days and on fewer of its hours).
_COST_MONTH, _COST_DAY, _COST_HOUR = 1.0, 0.1, 0.01


def cost(pieces: Cover) -> float:
    """Rows of a page the pieces read, roughly (to choose between two covers)."""
    months = sum((b.year - a.year) * 12 + b.month - a.month + 1 for a, b in pieces.months)
    days = sum((b - a).days + 1 for a, b in pieces.days)
    hours = sum((b - a) / HOUR for a, b in pieces.hours)
    return months * _COST_MONTH + days * _COST_DAY + hours * _COST_HOUR


@dataclass(frozen=True, slots=True)
class SignedCover:
    """A span as whole UTC ``years`` plus the pieces of ``plus`` minus those of
    ``minus`` (each lies inside one of the years)."""

    years: list[int] = field(default_factory=list)
    plus: Cover = field(default_factory=Cover)
    minus: Cover = field(default_factory=Cover)


def _add(into: Cover, pieces: Cover) -> None:
    into.months.extend(pieces.months)
    into.days.extend(pieces.days)
    into.hours.extend(pieces.hours)


def signed_cover(low: datetime, high: datetime) -> SignedCover:
    """The pieces of the naive UTC span ``[low, high)`` with each UTC year it touches
    read either as its part (:func:`cover`) or as the whole year minus the rest,
    whichever reads fewer rows: 365 days with mid-month edges are a year minus half a
    month and half a month of the next, a year in a zone east of UTC a year minus an
    hour plus an hour, where their covers are eleven months and a month of days."""
    found = SignedCover()
    first_hour, stop_hour = _ceil_hour(low), _ceil_hour(high)
    for year in range(first_hour.year, (stop_hour - HOUR).year + 1):
        start, stop = datetime(year, 1, 1), datetime(year + 1, 1, 1)
        part = cover(max(first_hour, start), min(stop_hour, stop))
        rest = Cover()
        _add(rest, cover(start, max(first_hour, start)))
        _add(rest, cover(min(stop_hour, stop), stop))
        minus, plus = _whole_days(rest)
        if 1.0 + cost(minus) + cost(plus) < cost(part):
            found.years.append(year)
            _add(found.minus, minus)
            _add(found.plus, plus)
        else:
            _add(found.plus, part)
    return found


def _whole_days(rest: Cover) -> tuple[Cover, Cover]:
    """``rest`` to take out of a year, with whole days only: a day with hours in
    ``rest`` is taken out whole and its other hours added back. A day is the sum of its
    hours only for counted views: imported day-only history has no hours, and the span's
    own cover counts such a day where it is whole, nowhere else."""
    minus = Cover(months=list(rest.months), days=list(rest.days))
    plus = Cover()
    by_day: dict[date, list[tuple[datetime, datetime]]] = {}
    for low, high in rest.hours:
        by_day.setdefault(low.date(), []).append((low, high))
    for day, taken in sorted(by_day.items()):
        minus.days.append((day, day))
        moment = datetime.combine(day, time())
        for low, high in [*sorted(taken), (moment + DAY, moment + DAY)]:
            if moment < low:
                plus.hours.append((moment, low))
            moment = max(moment, high)
    return minus, plus
