"""The top pages of a span without summing every page: Fagin's threshold algorithm over
each month's pages ranked by views.

Every piece of a span (:mod:`page_tracker.stats.cover`: whole months, edge days, edge
hours) lies inside one UTC month, and a page's ``stat_monthly`` row is the sum of all its
days and hours in that month. So a page's views in the span are at most the sum of its
rows of the months the span touches. Read the ``depth`` best rows of each of those months
(``ix_stat_monthly_ranked``: site, month, page views); a page that is in none of them has
at most, in each month, the last value read there (0 where the month had fewer rows:
every page of it was read). If the ``k``-th best exact total among the pages read is
*above* the sum of those thresholds, no other page can reach the first ``k``, ties
included (a tie could hide a page whose path sorts first): the first ``k`` pages read,
ranked by the same ``ORDER BY`` as the plain query, are the answer. Otherwise read
deeper; past :data:`MAX_ROWS` give up (``None``: the caller runs the plain ``GROUP BY``,
which flat data, where thousands of pages tie, needs anyway).

A span that touches most of a UTC year (:data:`YEAR_MONTHS` of its months) is bounded in
that year by the year's list instead (``stat_page_years``, ``ix_stat_page_years_ranked``):
a page's views in the span's part of the year are at most its views of the year. That
list is read in the breakdown's own order, page views then path, so ties settle too: an
unread page with exactly the bound would need the year's last value read, and its path
sorts after the last page read there; the ``k``-th exact total *equal* to the bound with
a path before that page's stops the reading. On flat data (thousands of pages with the
same views in a year) the calendar year's top 10 is then one round of 20 pages, where
twelve monthly lists bound nothing.

The exact totals of the candidates are read by key: whole years by ``(site, year,
path)``, months by ``(site, path, month)``,
edge days by ``(site, day, path)`` (the key of ``stat_daily`` leads with the day), edge
hours by ``(site, path, hour)``.

A span without a whole month (30 days across two months) is bounded the same way, by
the rows of the months it lies in: looser (a month holds more than the span), so the
first round reads deeper (:func:`_first_depth`); the candidates' days are then read as
in lists by key. On skewed data this answers a 30-day top 10 from ~80 monthly rows and the
candidates' daily rows, instead of grouping every page of every day.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Final

from sqlalchemy import ColumnElement, func, select, union_all
from sqlalchemy.orm import Session

from page_tracker.stats.cover import DAY, HOUR, Cover, SignedCover
from page_tracker.stats.models import (
    SITE,
    DailyCount,
    HourlyCount,
    MonthlyCount,
    PageYear,
    Path,
    month_of,
)

MAX_ROWS: Final = 2_000  # monthly rows read at most before the plain GROUP BY is cheaper
MAX_RANK: Final = 500  # offset + limit beyond which the plain query is asked straight away
DEEPER: Final = 4  # how much deeper each further round reads
MAX_CANDIDATES: Final = 300  # pages whose exact totals are read at most (by key, per day)
MAX_EXACT: Final = 2  # rounds of exact totals before the plain query is the better bet
PROBES: Final = 400  # (day, page) keys a statement of exact totals probes at most
YEAR_MONTHS: Final = 6  # months of a UTC year a span touches from which its year's list bounds them

# A ranked list: a UTC month's pages (``stat_monthly``, by its first day) or a UTC year's
# (``stat_page_years``, by the year number).
Key = date | int


@dataclass(frozen=True, slots=True)
class Ranked:
    """One ranked page: its id, name, title and totals over the span."""

    path_id: int
    path: str
    title: str | None
    pageviews: int
    visitors: int


def _months_between(first: date, last: date) -> list[date]:
    found, month = [], month_of(first)
    while month <= last:
        found.append(month)
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return found


def touched_months(pieces: Cover) -> list[date]:
    """The first days of every UTC month a piece of the span lies in."""
    months: set[date] = set()
    for first, last in pieces.months + pieces.days:
        months.update(_months_between(first, last))
    for low, high in pieces.hours:
        months.update(_months_between(low.date(), (high - HOUR).date()))
    return sorted(months)


def _days(spans: list[tuple[date, date]]) -> list[date]:
    return [
        first + timedelta(days=n) for first, last in spans for n in range((last - first).days + 1)
    ]


def lists_of(months: list[date]) -> list[Key]:
    """The ranked lists that bound a span touching ``months``: the year's where the span
    touches :data:`YEAR_MONTHS` of its months or more (one list, and on flat data the
    only one whose order settles ties), each month's otherwise."""
    by_year: dict[int, list[date]] = {}
    for month in months:
        by_year.setdefault(month.year, []).append(month)
    found: list[Key] = []
    for year, touched in sorted(by_year.items()):
        found.extend([year] if len(touched) >= YEAR_MONTHS else touched)
    return found


def _month_heads(
    session: Session, site_id: str, months: list[date], depth: int
) -> dict[Key, list[tuple[int, int]]]:
    """The ``depth`` rows of most page views of each month, as (path id, page views)."""
    parts = [
        select(MonthlyCount.month, MonthlyCount.path_id, MonthlyCount.pageviews)
        .where(
            MonthlyCount.site_id == site_id,
            MonthlyCount.month == month,
            MonthlyCount.path_id != SITE,
        )
        .order_by(MonthlyCount.pageviews.desc(), MonthlyCount.path_id.desc())
        .limit(depth)
        .subquery()
        for month in months
    ]
    heads: dict[Key, list[tuple[int, int]]] = {month: [] for month in months}
    if not parts:
        return heads
    query: Any = (
        union_all(*(select(part) for part in parts)) if len(parts) > 1 else select(parts[0])
    )
    for month, path_id, views in session.execute(query):
        heads[month].append((path_id, int(views)))
    return heads


def _year_head(session: Session, site_id: str, year: int, depth: int) -> list[tuple[int, int]]:
    """The first ``depth`` pages of ``year`` by page views, then path (the order the
    breakdown ranks by), as (path id, page views): a page not read has fewer views than
    the last one read, or as many and a path after it.

    The ``depth`` best page views off ``ix_stat_page_years_ranked``, the pages above the
    last of them, then those tied with it in path order: on flat data 10 000 pages tie,
    and sorting their join with the paths took 27 ms on PostgreSQL (MariaDB sorted the
    join of every page of the year), where walking the paths in order and probing each
    page's year stops after the few wanted (0.7 ms; each database picks that walk only
    when the tie is large)."""
    mine = (PageYear.site_id == site_id) & (PageYear.year == year)
    values = session.scalars(
        select(PageYear.pageviews).where(mine).order_by(PageYear.pageviews.desc()).limit(depth)
    ).all()
    if len(values) < depth:  # every page of the year: no order needed
        rows = session.execute(select(PageYear.path_id, PageYear.pageviews).where(mine))
        return [(path_id, int(views)) for path_id, views in rows]
    least = values[-1]
    above = session.execute(
        select(PageYear.path_id, PageYear.pageviews).where(mine, PageYear.pageviews > least)
    ).all()
    tied = session.scalars(
        select(PageYear.path_id)
        .join(Path, Path.id == PageYear.path_id)
        .where(mine, PageYear.pageviews == least, Path.site_id == site_id)
        .order_by(Path.path)
        .limit(depth - len(above))
    ).all()
    first = sorted(((path_id, int(views)) for path_id, views in above), key=lambda row: -row[1])
    return first + [(path_id, int(least)) for path_id in tied]


def _heads(
    session: Session, site_id: str, lists: list[Key], depth: int
) -> dict[Key, list[tuple[int, int]]]:
    """The first ``depth`` rows of each list, as (path id, page views)."""
    months = [key for key in lists if isinstance(key, date)]
    heads = _month_heads(session, site_id, months, depth)
    for key in lists:
        if not isinstance(key, date):
            heads[key] = _year_head(session, site_id, key, depth)
    return {key: heads[key] for key in lists}


def _whole_years(spans: list[tuple[date, date]]) -> tuple[list[int], list[tuple[date, date]]]:
    """Ranges of whole months split into whole UTC years and the months left."""
    years: list[int] = []
    left: list[tuple[date, date]] = []
    for first, last in spans:
        for year in range(first.year, last.year + 1):
            low = max(first, date(year, 1, 1))
            high = min(last, date(year, 12, 1))
            if low == date(year, 1, 1) and high == date(year, 12, 1):
                years.append(year)
            elif low <= high:
                left.append((low, high))
    return years, left


def _rows_of(site_id: str, pieces: Cover, ids: list[int], sign: int = 1) -> list[Any]:
    """Selects of (path id, page views, visitors) of the pages ``ids`` in every piece
    (negated where ``sign`` is -1: pieces taken out of a whole year)."""
    selects: list[Any] = []

    def rows(table: Any, within: ColumnElement[bool]) -> None:
        # Summed by page in SQL within a statement: 300 candidates x 12 months sent as
        # rows cost flat data (no early stop, two rounds) 30 ms more (bench/README.md).
        pv, uv = func.sum(table.pageviews), func.sum(table.visitors)
        selects.append(
            select(table.path_id, pv if sign > 0 else -pv, uv if sign > 0 else -uv)
            .where(table.site_id == site_id, table.path_id.in_(ids), within)
            .group_by(table.path_id)
        )

    years, months = _whole_years(pieces.months)
    if years:  # a whole year is one row a page (by key: site, year, page)
        rows(PageYear, PageYear.year.in_(years))
    for first, last in months:
        rows(MonthlyCount, (MonthlyCount.month >= first) & (MonthlyCount.month <= last))
    # Days by key: (site, day IN ..., path IN ...) probes the daily key, at most
    # PROBES (day, page) pairs a statement: with many more PostgreSQL's estimate passed
    # a scan of all of stat_daily, which it then chose.
    days = _days(pieces.days)
    step = max(1, PROBES // max(1, len(ids)))
    for start in range(0, len(days), step):
        rows(DailyCount, DailyCount.day.in_(days[start : start + step]))
    for low, high in pieces.hours:
        rows(HourlyCount, (HourlyCount.hour >= low) & (HourlyCount.hour < high))
    return selects


def _signed_rows_of(site_id: str, signed: SignedCover, ids: list[int]) -> list[Any]:
    """:func:`_rows_of` over a signed cover: the whole years' rows (one a page), plus
    the pieces added, minus those taken out. A zoned calendar year is its UTC year
    minus a day plus that day's hours and an hour of the year before: four statements
    probing one day, where its cover (eleven months, 30 edge days, two hour ranges)
    took six probing 30 days (bench/README.md)."""
    selects: list[Any] = []
    if signed.years:
        selects.append(
            select(PageYear.path_id, PageYear.pageviews, PageYear.visitors).where(
                PageYear.site_id == site_id,
                PageYear.path_id.in_(ids),
                PageYear.year.in_(signed.years),
            )
        )
    return (
        selects
        + _rows_of(site_id, signed.plus, ids)
        + _rows_of(site_id, signed.minus, ids, sign=-1)
    )


def exact(
    session: Session,
    site_id: str,
    pieces: Cover,
    ids: list[int],
    signed: SignedCover | None = None,
) -> list[Ranked]:
    """The pages ``ids`` that have views in the span, with their exact totals, ranked as
    the plain query ranks (page views descending, then path in the database's order);
    ``signed``: the same span as a signed cover, read instead when it has whole years."""
    return _exact(session, site_id, pieces, ids, signed)[0]


def _exact(
    session: Session,
    site_id: str,
    pieces: Cover,
    ids: list[int],
    signed: SignedCover | None = None,
) -> tuple[list[Ranked], dict[int, int]]:
    """:func:`exact`, and the place of each of ``ids`` in the database's order of paths.

    The candidates' sums are read a piece at a time and added up here: as one statement
    (a union of the pieces, grouped), PostgreSQL judged the probes of the edge
    days worth a parallel plan, and starting its workers took longer than the probes
    (20 - 30 ms of 40). The paths come back in the database's collation order, so ties
    rank as the plain query ranks them."""
    if not ids:
        return [], {}
    sums: dict[int, list[int]] = {}
    years = signed is not None and bool(signed.years)
    queries = _signed_rows_of(site_id, signed, ids) if signed and years else None
    for query in queries or _rows_of(site_id, pieces, ids):  # one statement each (see above)
        for path_id, pageviews, visitors in session.execute(query):
            found = sums.setdefault(path_id, [0, 0])
            found[0] += int(pageviews)
            found[1] += int(visitors)
    if years:
        # A page whose rows of a whole year all lie outside the span sums to nothing: it
        # is not in the span (a stored row always holds a view or a visitor, as the
        # plain query's signed pieces assume).
        sums = {path_id: found for path_id, found in sums.items() if found != [0, 0]}
    names = session.execute(
        select(Path.id, Path.path, Path.title).where(Path.id.in_(ids)).order_by(Path.path)
    ).all()
    order = {i: n for n, (i, _path, _title) in enumerate(names)}
    ranked = [Ranked(i, path, title, *sums[i]) for i, path, title in names if i in sums]
    return sorted(ranked, key=lambda page: (-page.pageviews, order[page.path_id])), order


@dataclass(frozen=True, slots=True)
class Top:
    pages: list[Ranked]  # ranked offset to offset + limit
    total: int | None  # how many pages the span has, when every one of them was read


def _may_stop(
    heads: dict[Key, list[tuple[int, int]]],
    last: dict[Key, int],
    bound: int,
    wanted: int,
    ties: bool,
) -> bool:
    """Whether ``wanted`` pages read may hold more than ``bound`` each (``ties``: or as
    many, where a year's list orders ties by path): a page read has at most its rows
    read plus the last value of each list where it was not read. When fewer than
    ``wanted`` can pass the bound even so, the exact totals are not worth reading yet
    (flat data: thousands of pages within a few views of each other)."""
    seen: dict[int, int] = {}
    for key, rows in heads.items():
        for path_id, views in rows:
            seen[path_id] = seen.get(path_id, bound) - last[key] + views
    return sum(most > bound or (ties and most == bound) for most in seen.values()) >= wanted


def _settled(
    ranked: list[Ranked], order: dict[int, int], wanted: int, bound: int, lasts: list[int]
) -> bool:
    """Whether no page left unread can rank among the first ``wanted``: the ``wanted``-th
    has more than ``bound`` views, or as many and a path before (or equal to) the last
    page read from a year's list (``lasts``): a page not read there with ``bound`` views
    in all would need that year's last value, and its path then sorts after that page's."""
    if len(ranked) < wanted:
        return False
    kth = ranked[wanted - 1]
    if kth.pageviews > bound:
        return True
    place = order[kth.path_id]
    return kth.pageviews == bound and any(place <= order[last] for last in lasts)


def _hopeless(
    session: Session, site_id: str, lists: list[Key], ranked: list[Ranked], wanted: int
) -> bool:
    """Whether a deeper round cannot settle unless the ``wanted``-th exact total found
    so far rises: the bound is at least the last value read in each list, so it stays
    above that total until every page of the list with more views has been read, and
    one list has more of them than :data:`MAX_CANDIDATES` (the exact totals ever read).

    Flat data (a year's pages within a few views of each other, a span that cuts every
    page's year by a few edge days): the first round's candidates lose their edge views,
    10 000 pages of the year have more than the ``wanted``-th of them, and the second
    round only added its cost (20 - 70 ms) to the plain query's. Counted off the ranked
    indexes, :data:`MAX_CANDIDATES` + 1 entries at most a list."""
    if len(ranked) < wanted:
        return False
    kth = ranked[wanted - 1].pageviews
    for key in lists:
        if isinstance(key, date):
            above: Any = select(MonthlyCount.path_id).where(
                MonthlyCount.site_id == site_id,
                MonthlyCount.month == key,
                MonthlyCount.pageviews > kth,
                MonthlyCount.path_id != SITE,
            )
        else:
            above = select(PageYear.path_id).where(
                PageYear.site_id == site_id, PageYear.year == key, PageYear.pageviews > kth
            )
        counted = select(func.count()).select_from(above.limit(MAX_CANDIDATES + 1).subquery())
        if (session.scalar(counted) or 0) > MAX_CANDIDATES:
            return True
    return False


def _first_depth(pieces: Cover, months: list[date], wanted: int) -> int:
    """How many rows of each month to read first: ``wanted`` and a margin, times how
    much more than the span the months hold. A span without a whole month (30 days
    across two months) is bounded by whole months' rows: a page ranked ``wanted``
    in a span that is a fraction ``f`` of its months is ranked near ``wanted / f`` in
    them, so reading that deep lets the first round stop on skewed data."""
    depth = wanted + 10
    if pieces.months:
        return depth
    span_days = len(_days(pieces.days)) + sum((b - a) / DAY for a, b in pieces.hours)
    month_days = sum(_month_length(month) for month in months)
    return min(MAX_ROWS // len(months), math.ceil(depth * month_days / max(span_days, 1)))


def _month_length(month: date) -> int:
    return (date(month.year + month.month // 12, month.month % 12 + 1, 1) - month).days


def top_pages(
    session: Session,
    site_id: str,
    pieces: Cover,
    *,
    limit: int,
    offset: int,
    depth: int | None = None,
    max_rows: int = MAX_ROWS,
    signed: SignedCover | None = None,
) -> Top | None:
    """The pages ranked ``offset`` to ``offset + limit`` in the span of ``pieces``, exactly
    as the plain ``GROUP BY`` ranks them; ``None`` when finding them would read more than
    ``max_rows`` monthly rows (the plain query is then the cheaper one). ``depth``: the
    rows of each month read first (default ``offset + limit + 10``); ``signed``: the
    span as :func:`~page_tracker.stats.cover.signed_cover` gives it, whose whole years
    the exact totals read by key instead of the pieces' rows."""
    wanted = offset + limit
    months = touched_months(pieces)
    if not (pieces.months or pieces.days) or limit <= 0 or wanted > MAX_RANK:
        return None  # a few hours: the plain query reads a few hundred rows
    lists = lists_of(months)
    depth = depth or _first_depth(pieces, months, wanted)
    if not pieces.months:
        # Two rounds at most: on flat data the plain query follows, and each deeper
        # round of loose bounds only added to it (30 flat days: +35 ms on PostgreSQL).
        max_rows = min(max_rows, DEEPER * depth * len(lists))
    exact_rounds = 0
    while depth * len(lists) <= max_rows and exact_rounds < MAX_EXACT:
        heads = _heads(session, site_id, lists, depth)
        # A page read nowhere has at most the last value read in each list (0 where the
        # list had fewer rows than asked: all its pages were read).
        last = {key: rows[-1][1] if len(rows) == depth else 0 for key, rows in heads.items()}
        bound = sum(last.values())
        everything = all(len(rows) < depth for rows in heads.values())
        # The last page read of each year's list not read to its end: its order settles ties.
        lasts = [
            rows[-1][0]
            for key, rows in heads.items()
            if not isinstance(key, date) and len(rows) == depth
        ]
        if everything or _may_stop(heads, last, bound, wanted, bool(lasts)):
            ids = sorted({path_id for rows in heads.values() for path_id, _ in rows})
            if len(ids) > MAX_CANDIDATES and not everything:
                return None
            ranked, order = _exact(session, site_id, pieces, ids, signed)
            exact_rounds += 1
            if everything:
                return Top(ranked[offset:wanted], len(ranked))
            if _settled(ranked, order, wanted, bound, lasts):
                return Top(ranked[offset:wanted], None)
            if _hopeless(session, site_id, list(heads), ranked, wanted):
                return None
        depth *= DEEPER
    return None
