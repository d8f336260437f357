"""What a site's statistics say over a range of local dates, in any IANA time zone.

The one read service of the stats API and ``page-tracker stats``. It reads the rollups
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

Filters: ``page`` works everywhere (per-page rollups); ``referrer``, ``country``,
``device``, ``browser``, ``os``, ``campaign`` (utm_campaign) and ``entry_page`` only on
whole UTC days (``interval`` day or month with a UTC zone), because
dimensions are counted per UTC day. A page filter and one dimension filter combine
(``stat_daily_path_dimensions`` crosses pages with each dimension but ``entry_page``); two
dimension filters are refused (:class:`~page_tracker.errors.ValidationFailed`, 400):
nothing crosses two dimensions, and a number that ignored one of them would be wrong.
Breakdowns follow the filter: a page filter narrows every table to that page's views, a
dimension filter the pages table (and the table of its own kind to its value); a
dimension table cannot follow a filter on another dimension and is refused alike, as
are the entry pages under a page filter and the pages under an entry-page filter (entry
pages are not crossed with pages). Breakdowns of dimensions, and of pages under a
dimension filter, count whole UTC days from ``start`` to ``end`` whatever the zone
(``basis`` says so).

Entry pages (breakdown ``entry_pages``, filter ``entry_page``) are the paths of the
visitors' first views of the site each UTC day: their page views are entrances, as many
as their visitors (:func:`page_tracker.stats.rollup.apply`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import cache
from typing import Any, Final, Literal
from zoneinfo import ZoneInfo, available_timezones

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from page_tracker.errors import Unprocessable, ValidationFailed
from page_tracker.stats import filtered
from page_tracker.stats.live import LiveVisitors
from page_tracker.stats.models import (
    SITE,
    DailyCount,
    DailyDimensionCount,
    DailyPathDimensionCount,
    Dimension,
    HourlyCount,
    Path,
)
from page_tracker.stats.pages import ranked_pages
from page_tracker.stats.rollup import PATH_DIMENSIONS
from page_tracker.stats.search import page_condition

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


Basis = Literal["local-hours", "utc-days"]
# Breakdown name -> the dimension kind it lists (``pages`` lists paths).
BREAKDOWNS: Final[dict[str, str | None]] = {
    "pages": None,
    "referrers": "referrer_host",
    "browsers": "browser",
    "os": "os",
    "devices": "device",
    "countries": "country",
    "campaigns": "utm_campaign",
    "entry_pages": "entry_page",
}
CAMPAIGN_FIELDS: Final = ("source", "medium", "campaign", "term", "content")
FILTER_KINDS: Final = {
    "referrer": "referrer_host",
    "country": "country",
    "device": "device",
    "browser": "browser",
    "os": "os",
    "campaign": "utm_campaign",
    "entry_page": "entry_page",
}


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
        return _utc_midnight(self.start, self.zone), _utc_midnight(
            self.end + timedelta(days=1), self.zone
        )

    def previous(self) -> Range:
        """The range of as many days just before this one."""
        return Range(
            self.start - timedelta(days=self.days), self.start - timedelta(days=1), self.zone
        )


def _utc_midnight(day: date, zone: ZoneInfo) -> datetime:
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


@dataclass(frozen=True, slots=True)
class Filter:
    """A page path, a dimension ``kind`` (referrer_host, country, device, browser, os,
    utm_campaign, entry_page) with its ``value``, or both."""

    page: str | None = None
    kind: str | None = None
    value: str | None = None

    @classmethod
    def of(cls, **given: str | None) -> Filter:
        """``Filter.of(page=..., referrer=..., country=..., device=..., browser=..., os=...,
        campaign=..., entry_page=...)``: the page and at most one of the others (two
        dimension filters: :class:`ValidationFailed`, see :data:`TWO_DIMENSIONS`)."""
        chosen = {name: value for name, value in given.items() if value is not None}
        page = chosen.pop("page", None)
        if len(chosen) > 1:
            raise ValidationFailed(
                TWO_DIMENSIONS.format(names=", ".join(sorted(chosen))),
                details={"filters": sorted(chosen)},
                error_code=40010,
            )
        if not chosen:
            return cls(page=page)
        ((name, value),) = chosen.items()
        return cls(page=page, kind=FILTER_KINDS[name], value=value)

    @property
    def name(self) -> str | None:
        """The dimension filter's parameter name (``country``), ``None`` without one."""
        return None if self.kind is None else FILTER_NAMES[self.kind]


FILTER_NAMES: Final = {kind: name for name, kind in FILTER_KINDS.items()}
TWO_DIMENSIONS: Final = (
    "filter by one of {names} at a time (a page filter may go with it): dimensions are "
    "counted each on its own, crossed only with pages, so no count follows two of them"
)
OTHER_DIMENSION: Final = (
    "the {table} breakdown cannot follow the {name} filter: dimensions are counted each on "
    "its own, crossed only with pages (remove the {name} filter, or filter by a page)"
)
NOT_PER_PAGE: Final = (
    "the {table} breakdown cannot follow the {name} filter: its values are not counted per page"
)


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


def _path_id(session: Session, site_id: str, path: str) -> int | None:
    return session.scalar(select(Path.id).where(Path.site_id == site_id, Path.path == path))


def _dimension_id(session: Session, kind: str, value: str) -> int | None:
    return session.scalar(
        select(Dimension.id).where(Dimension.kind == kind, Dimension.value == value)
    )


def _counts(
    session: Session, site_id: str, rng: Range, interval: Interval, where: Filter
) -> list[tuple[Any, int, int]]:
    """(UTC hour or UTC day, page views, visitors) rows of the range, from the rollup that
    answers it exactly."""
    by_day = rng.utc_aligned and interval is not Interval.HOUR
    if where.kind is not None:
        if not by_day:
            raise Unprocessable(
                "the referrer, country, device, browser, os, campaign and entry_page "
                "filters count whole UTC days: "
                "use tz=UTC with interval=day or month"
            )
        dimension = _dimension_id(session, where.kind, where.value or "")
        if dimension is None:
            return []
        table: Any = DailyDimensionCount
        wanted: ColumnElement[bool] = DailyDimensionCount.dimension_id == dimension
        if where.page is not None:  # one page's views with the value
            path_id = _path_id(session, site_id, where.page)
            if path_id is None:
                return []
            table = DailyPathDimensionCount
            wanted = (table.dimension_id == dimension) & (table.path_id == path_id)
    else:
        path_id = SITE if where.page is None else _path_id(session, site_id, where.page)
        if path_id is None:
            return []
        table = DailyCount if by_day else HourlyCount
        wanted = table.path_id == path_id
    if by_day:
        # Each day by key, not a range of days: the daily keys lead with the day, so a
        # range reads every page's (or value's) row of every day to find the one wanted
        # (PostgreSQL scanned 730 000 rows for a year's 365, bench/README.md).
        moment = table.day
        in_range = moment.in_([rng.start + timedelta(days=n) for n in range(rng.days)])
    else:
        moment = table.hour
        low, high = rng.utc_bounds()
        in_range = (moment >= low) & (moment < high)
    rows = session.execute(
        select(moment, table.pageviews, table.visitors)
        .where(table.site_id == site_id, wanted, in_range)
        .order_by(moment)
    )
    return [(when, int(pv), int(uv)) for when, pv, uv in rows]


def _periods(rng: Range, interval: Interval) -> Iterator[tuple[Any, str, datetime]]:
    """Every period of the range (key, label, aware start), gaps included."""
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
        start = _utc_midnight(day, zone).replace(tzinfo=UTC).astimezone(zone)
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
    rows = _counts(session, site_id, rng, interval, where)
    before = _counts(session, site_id, rng.previous(), interval, where)
    buckets: dict[Any, list[int]] = {}
    for when, pv, uv in rows:
        bucket = buckets.setdefault(_key(when, rng, interval), [0, 0])
        bucket[0] += pv
        bucket[1] += uv
    series = [
        Point(label, start, *buckets.get(key, (0, 0)))
        for key, label, start in _periods(rng, interval)
    ]
    return Summary(_sum(rows), _sum(before), series)


@dataclass(frozen=True, slots=True)
class Item:
    value: str
    pageviews: int
    visitors: int  # daily unique visitors summed over the days
    title: str | None = None


@dataclass(frozen=True, slots=True)
class Breakdown:
    kind: str
    basis: Basis
    total: int  # how many values there are (pages, browsers ...) in all
    items: list[Item]


def dimension_kind(name: str, campaign_field: str = "campaign") -> str | None:
    """The dimension kind a breakdown lists (``None``: pages)."""
    if name == "campaigns":
        if campaign_field not in CAMPAIGN_FIELDS:
            raise Unprocessable(f"utm is one of {', '.join(CAMPAIGN_FIELDS)}")
        return f"utm_{campaign_field}"
    return BREAKDOWNS[name]


def breakdown(
    session: Session,
    site_id: str,
    rng: Range,
    name: str,
    *,
    limit: int = 10,
    offset: int = 0,
    campaign_field: str = "campaign",
    search: str | None = None,
    where: Filter | None = None,
) -> Breakdown:
    """The values of a breakdown by page views (then name), ``limit`` from ``offset``;
    ``search`` keeps the pages whose path or title has its words (pages only); ``where``
    narrows it to the filtered views (:func:`_filtered`)."""
    kind = dimension_kind(name, campaign_field)
    if where is not None and (where.page is not None or where.kind is not None):
        return _filtered(
            session, site_id, rng, name, kind=kind, where=where, limit=limit, offset=offset,
            search=search,
        )  # fmt: skip
    if kind is None:
        return _pages(session, site_id, rng, limit=limit, offset=offset, search=search)
    if search is not None:
        raise Unprocessable("search works on the pages breakdown only")
    views = func.sum(DailyDimensionCount.pageviews)
    grouped = (
        select(
            Dimension.value,
            views.label("pv"),
            func.sum(DailyDimensionCount.visitors),
            _TOTAL,
        )
        .join(Dimension, Dimension.id == DailyDimensionCount.dimension_id)
        .where(DailyDimensionCount.site_id == site_id, Dimension.kind == kind)
        .where(DailyDimensionCount.day >= rng.start, DailyDimensionCount.day <= rng.end)
        .group_by(Dimension.value)
    )
    rows = session.execute(
        grouped.order_by(views.desc(), Dimension.value).limit(limit).offset(offset)
    ).all()
    items = [Item(value, int(pv), int(uv)) for value, pv, uv, _ in rows]
    return Breakdown(name, "utc-days", _total(session, grouped, rows, offset), items)


# The number of groups, on every row of a grouped query (one scan gives page and total).
_TOTAL = func.count().over().label("total")


def _total(session: Session, grouped: Any, rows: Sequence[Any], offset: int) -> int:
    """How many values there are: from the window column, or, when the page is past the
    end (no row to carry it), from a count."""
    if rows:
        return int(rows[0][-1])
    if offset == 0:
        return 0
    return int(session.scalar(select(func.count()).select_from(grouped.subquery())) or 0)


def blocking(kind: str | None, where: Filter) -> str | None:
    """The filter of ``where`` (its parameter name) that a breakdown listing dimension
    ``kind`` (``None``: pages) cannot follow, or ``None`` when it follows them all: no
    rollup crosses two dimensions, and pages are crossed only with
    :data:`~page_tracker.stats.rollup.PATH_DIMENSIONS`."""
    if where.kind is not None:
        crossed = where.kind in PATH_DIMENSIONS
        if (kind is None and not crossed) or (kind is not None and kind != where.kind):
            return where.name
    if where.page is not None and kind is not None and kind not in PATH_DIMENSIONS:
        return "page"
    return None


def _filtered(
    session: Session,
    site_id: str,
    rng: Range,
    name: str,
    *,
    kind: str | None,
    where: Filter,
    limit: int,
    offset: int,
    search: str | None,
) -> Breakdown:
    """A breakdown of the filtered views only; :class:`ValidationFailed` when it cannot
    follow the filter (:func:`blocking`)."""
    blocked = blocking(kind, where)
    if blocked is not None:
        raise ValidationFailed(
            (NOT_PER_PAGE if blocked == "page" else OTHER_DIMENSION).format(
                table=name, name=blocked
            ),
            details={"breakdown": name, "filter": blocked},
            error_code=40011,
        )
    if kind is not None and search is not None:
        raise Unprocessable("search works on the pages breakdown only")
    only = None if search is None else page_condition(session, search)
    if where.page is not None:
        path_id = _path_id(session, site_id, where.page)
        if path_id is None:
            return Breakdown(name, "utc-days" if kind else _pages_basis(rng), 0, [])
        if kind is None and where.kind is None:  # the pages table of a page: its row
            same = Path.path == where.page
            return _pages(
                session, site_id, rng, limit=limit, offset=offset,
                only=same if only is None else same & only,
            )  # fmt: skip
        if kind is None:
            only = Path.id == path_id if only is None else (Path.id == path_id) & only
    else:
        path_id = None
    if kind is not None:
        total, values = filtered.dimension_values(
            session, site_id, rng.start, rng.end, kind, path_id=path_id,
            value=where.value if where.kind == kind else None, limit=limit, offset=offset,
        )  # fmt: skip
        return Breakdown(name, "utc-days", total, [Item(*row) for row in values])
    dimension = _dimension_id(session, where.kind or "", where.value or "")
    if dimension is None:
        return Breakdown(name, "utc-days", 0, [])
    total, ranked = filtered.pages_with(
        session, site_id, rng.start, rng.end, dimension, only=only, limit=limit, offset=offset
    )
    items = [Item(p.path, p.pageviews, p.visitors, p.title) for p in ranked]
    return Breakdown(name, "utc-days", total, items)


def _pages_basis(rng: Range) -> Basis:
    return "utc-days" if rng.utc_aligned else "local-hours"


def _pages(
    session: Session,
    site_id: str,
    rng: Range,
    *,
    limit: int,
    offset: int,
    search: str | None = None,
    only: ColumnElement[bool] | None = None,
) -> Breakdown:
    # Whole UTC months from stat_monthly, the days and hours at the edges from the finer
    # rollups: exact in every zone, since each rollup is the sum of the finer one.
    basis = _pages_basis(rng)
    low, high = rng.utc_bounds()
    if search is not None:
        found = page_condition(session, search)
        only = found if only is None else only & found
    total, ranked = ranked_pages(session, site_id, low, high, limit=limit, offset=offset, only=only)
    items = [Item(p.path, p.pageviews, p.visitors, p.title) for p in ranked]
    return Breakdown("pages", basis, total, items)


@dataclass(frozen=True, slots=True)
class Freshness:
    unflushed_pageviews: int | None  # received, not in the rollups yet (None: unknown)
    last_counted_hour: datetime | None  # UTC start of the latest hour with a view


def freshness(session: Session, site_id: str, live: LiveVisitors) -> Freshness:
    """How current the rollups are: the page views still waiting for the flush (Redis
    mode) and the latest hour counted."""
    last = session.scalar(
        select(func.max(HourlyCount.hour)).where(
            HourlyCount.site_id == site_id, HourlyCount.path_id == SITE
        )
    )
    return Freshness(live.unflushed_pageviews(site_id), last.replace(tzinfo=UTC) if last else None)
