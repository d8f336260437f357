"""The local dates a statistics read covers, in any IANA time zone.

:func:`make_range` turns a request's ``from``, ``to``, ``tz`` and ``interval`` into a
:class:`Range` (or refuses it with :class:`~page_tracker.errors.Unprocessable`); a range
knows its UTC bounds and the period just before it. A zone in :data:`UTC_ZONES` never
leaves UTC, so its local days are UTC days and the daily rollups answer it exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import cache
from typing import Final
from zoneinfo import ZoneInfo, available_timezones

from page_tracker.errors import Unprocessable

EARLIEST: Final = date(2000, 1, 1)
LATEST: Final = date(2100, 12, 31)
MAX_DAYS: Final = 3660  # ten years a request
MAX_HOUR_DAYS: Final = 31  # an hourly series of at most 744 points
DEFAULT_DAYS: Final = 30
UTC_ZONES: Final = frozenset(
    {"UTC", "Etc/UTC", "Etc/UCT", "UCT", "Etc/Universal", "Universal", "Etc/Zulu", "Zulu"}
    | {"GMT", "Etc/GMT", "Etc/GMT0", "Etc/GMT+0", "Etc/GMT-0", "GMT0", "GMT+0", "GMT-0"}
    | {"Greenwich", "Etc/Greenwich"}
)
HOUR: Final = timedelta(hours=1)


class Interval(StrEnum):
    HOUR = "hour"
    DAY = "day"
    MONTH = "month"


@cache
def known_zones() -> frozenset[str]:
    """Every IANA zone name (from the ``tzdata`` package where the system has none)."""
    return frozenset(available_timezones())


@dataclass(frozen=True, slots=True)
class Range:
    """Local dates ``start`` to ``end`` inclusive in ``zone``."""

    start: date
    end: date
    zone: ZoneInfo

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def utc_aligned(self) -> bool:
        """Local days are UTC days (the zone never leaves UTC)."""
        return self.zone.key in UTC_ZONES

    def utc_bounds(self) -> tuple[datetime, datetime]:
        """The first UTC instant and the one after the last, naive (as stored)."""
        return utc_midnight(self.start, self.zone), utc_midnight(
            self.end + timedelta(days=1), self.zone
        )

    def previous(self) -> Range:
        """The range of as many days just before this one."""
        return Range(
            self.start - timedelta(days=self.days), self.start - timedelta(days=1), self.zone
        )


def utc_midnight(day: date, zone: ZoneInfo) -> datetime:
    # A midnight that does not exist (clocks jump at 00:00) maps to the first instant of
    # the day; one that exists twice to the first.
    local = datetime.combine(day, time(), tzinfo=zone)
    return local.astimezone(UTC).replace(tzinfo=None)


def make_range(
    start: date | None, end: date | None, tz: str, interval: Interval, *, today: date | None = None
) -> Range:
    """The range a request asks for; ``end`` defaults to today in the zone, ``start`` to
    30 days before it. Raises :class:`Unprocessable` for what cannot be answered."""
    if tz not in known_zones():
        raise Unprocessable(f"unknown time zone {tz!r} (use an IANA name such as Europe/Berlin)")
    zone = ZoneInfo(tz)
    end = end or today or datetime.now(zone).date()
    start = start or max(EARLIEST, end - timedelta(days=DEFAULT_DAYS - 1))
    for name, day in (("from", start), ("to", end)):
        if not EARLIEST <= day <= LATEST:
            raise Unprocessable(f"{name} must be between {EARLIEST} and {LATEST}")
    if start > end:
        raise Unprocessable("from is after to")
    span = (end - start).days + 1
    limit = MAX_HOUR_DAYS if interval is Interval.HOUR else MAX_DAYS
    if span > limit:
        raise Unprocessable(f"at most {limit} days with interval={interval.value}")
    if start - timedelta(days=span) < EARLIEST:
        raise Unprocessable(f"the previous period would start before {EARLIEST}")
    return Range(start, end, zone)
