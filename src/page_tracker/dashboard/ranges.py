"""The range a dashboard URL asks for, in the zone it names.

``range=today|7d|30d|month|year`` (this month, this year, up to today) or
``range=custom`` with ``from``/``to`` (ISO dates); ``tz`` an IANA zone (default UTC; the
page's script puts the browser's zone in the URL); ``interval=hour|day|month`` overrides
the step the range suggests (hours up to a day, days up to about three months, months
beyond). Whether the stats service can answer it (too many hours, dates out of bounds) is
:func:`page_tracker.stats.make_range`'s to say.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from flask_babel import gettext as _

from page_tracker.errors import Unprocessable
from page_tracker.stats.ranges import Interval, known_zones

PRESETS: Final = ("today", "7d", "30d", "month", "year")
DEFAULT: Final = "30d"
DEFAULT_ZONE: Final = "UTC"
INTERVALS: Final = tuple(interval.value for interval in Interval)
MAX_DAILY_DAYS: Final = 92  # beyond about a quarter, a point a day is too many to read


@dataclass(frozen=True, slots=True)
class Chosen:
    """What the picker shows: the preset (or ``custom``), the local dates, the zone, the
    chart's step and whether the URL chose the step."""

    name: str
    start: date
    end: date
    tz: str
    interval: Interval
    interval_given: bool = False

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def suggested_interval(start: date, end: date) -> Interval:
    days = (end - start).days + 1
    if days == 1:
        return Interval.HOUR
    return Interval.DAY if days <= MAX_DAILY_DAYS else Interval.MONTH


def _date(args: Mapping[str, str], name: str) -> date:
    given = args.get(name, "")
    try:
        return date.fromisoformat(given)
    except ValueError:
        raise Unprocessable(_("%(name)s must be a date such as 2026-01-31", name=name)) from None


def _zone(args: Mapping[str, str]) -> str:
    tz = args.get("tz", DEFAULT_ZONE)
    if tz not in known_zones():
        raise Unprocessable(_("tz must be an IANA time zone such as Europe/Berlin"))
    return tz


def _preset(name: str, today: date) -> tuple[date, date]:
    if name == "month":
        return today.replace(day=1), today
    if name == "year":
        return today.replace(month=1, day=1), today
    days = 1 if name == "today" else int(name.removesuffix("d"))
    return today - timedelta(days=days - 1), today


def choose(args: Mapping[str, str], *, now: datetime | None = None) -> Chosen:
    """The range of the query ``args``; :class:`Unprocessable` for one that is not."""
    tz = _zone(args)
    today = (now or datetime.now(ZoneInfo(tz))).astimezone(ZoneInfo(tz)).date()
    name = args.get("range", DEFAULT)
    if name in PRESETS:
        start, end = _preset(name, today)
    elif name == "custom":
        start, end = _date(args, "from"), _date(args, "to")
        if start > end:
            raise Unprocessable(_("from is after to"))
    else:
        raise Unprocessable(
            _("range must be one of %(presets)s or custom", presets=", ".join(PRESETS))
        )
    given = args.get("interval") or None  # the picker's "automatic" sends it empty
    if given is None:
        return Chosen(name, start, end, tz, suggested_interval(start, end))
    if given not in INTERVALS:
        raise Unprocessable(
            _("interval must be one of %(intervals)s", intervals=", ".join(INTERVALS))
        )
    return Chosen(name, start, end, tz, Interval(given), interval_given=True)
