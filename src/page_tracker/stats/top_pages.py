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

The exact totals of the candidates are read by key: months by ``(site, path, month)``,
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

from page_tracker.stats.cover import DAY, HOUR, Cover
from page_tracker.stats.models import SITE, DailyCount, HourlyCount, MonthlyCount, Path, month_of

MAX_ROWS: Final = 2_000  # monthly rows read at most before the plain GROUP BY is cheaper
MAX_RANK: Final = 500  # offset + limit beyond which the plain query is asked straight away
DEEPER: Final = 4  # how much deeper each further round reads
MAX_CANDIDATES: Final = 300  # pages whose exact totals are read at most (by key, per day)
MAX_EXACT: Final = 2  # rounds of exact totals before the plain query is the better bet
PROBES: Final = 400  # (day, page) keys a statement of exact totals probes at most


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


def _heads(
    session: Session, site_id: str, months: list[date], depth: int
) -> dict[date, list[tuple[int, int]]]:
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
    heads: dict[date, list[tuple[int, int]]] = {month: [] for month in months}
    query: Any = (
        union_all(*(select(part) for part in parts)) if len(parts) > 1 else select(parts[0])
    )
    for month, path_id, views in session.execute(query):
        heads[month].append((path_id, int(views)))
    return heads


def _rows_of(site_id: str, pieces: Cover, ids: list[int]) -> list[Any]:
    """Selects of (path id, page views, visitors) of the pages ``ids`` in every piece."""
    selects: list[Any] = []

    def rows(table: Any, within: ColumnElement[bool]) -> None:
        # Summed by page in SQL within a statement: 300 candidates x 12 months sent as
        # rows cost flat data (no early stop, two rounds) 30 ms more (bench/README.md).
        selects.append(
            select(table.path_id, func.sum(table.pageviews), func.sum(table.visitors))
            .where(table.site_id == site_id, table.path_id.in_(ids), within)
            .group_by(table.path_id)
        )

    for first, last in pieces.months:
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


def exact(session: Session, site_id: str, pieces: Cover, ids: list[int]) -> list[Ranked]:
    """The pages ``ids`` that have views in the span, with their exact totals, ranked as
    the plain query ranks (page views descending, then path in the database's order).

    The candidates' sums are read a piece at a time and added up here: as one statement
    (a union of the pieces, grouped), PostgreSQL judged the probes of the edge
    days worth a parallel plan, and starting its workers took longer than the probes
    (20 - 30 ms of 40). The paths come back in the database's collation order, so ties
    rank as the plain query ranks them."""
    sums: dict[int, list[int]] = {}
    for query in _rows_of(site_id, pieces, ids):  # one statement each (see above)
        for path_id, pageviews, visitors in session.execute(query):
            found = sums.setdefault(path_id, [0, 0])
            found[0] += int(pageviews)
            found[1] += int(visitors)
    if not sums:
        return []
    names = session.execute(
        select(Path.id, Path.path, Path.title).where(Path.id.in_(sorted(sums))).order_by(Path.path)
    ).all()
    ranked = [Ranked(i, path, title, *sums[i]) for i, path, title in names]
    order = {page.path_id: n for n, page in enumerate(ranked)}
    return sorted(ranked, key=lambda page: (-page.pageviews, order[page.path_id]))


@dataclass(frozen=True, slots=True)
class Top:
    pages: list[Ranked]  # ranked offset to offset + limit
    total: int | None  # how many pages the span has, when every one of them was read


def _may_stop(
    heads: dict[date, list[tuple[int, int]]], last: dict[date, int], bound: int, wanted: int
) -> bool:
    """Whether ``wanted`` pages read may hold more than ``bound`` each: a page read has at
    most its rows read plus the last value of each month where it was not read. When
    fewer than ``wanted`` can pass the bound even so, the exact totals are not worth
    reading yet (flat data: thousands of pages within a few views of each other)."""
    seen: dict[int, int] = {}
    for month, rows in heads.items():
        for path_id, views in rows:
            seen[path_id] = seen.get(path_id, bound) - last[month] + views
    return sum(most > bound for most in seen.values()) >= wanted


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
) -> Top | None:
    """The pages ranked ``offset`` to ``offset + limit`` in the span of ``pieces``, exactly
    as the plain ``GROUP BY`` ranks them; ``None`` when finding them would read more than
    ``max_rows`` monthly rows (the plain query is then the cheaper one). ``depth``: the
    rows of each month read first (default ``offset + limit + 10``)."""
    wanted = offset + limit
    months = touched_months(pieces)
    if not (pieces.months or pieces.days) or limit <= 0 or wanted > MAX_RANK:
        return None  # a few hours: the plain query reads a few hundred rows
    depth = depth or _first_depth(pieces, months, wanted)
    if not pieces.months:
        # Two rounds at most: on flat data the plain query follows, and each deeper
        # round of loose bounds only added to it (30 flat days: +35 ms on PostgreSQL).
        max_rows = min(max_rows, DEEPER * depth * len(months))
    exact_rounds = 0
    while depth * len(months) <= max_rows and exact_rounds < MAX_EXACT:
        heads = _heads(session, site_id, months, depth)
        # A page read nowhere has at most the last value read in each month (0 where the
        # month had fewer rows than asked: all its pages were read).
        last = {month: rows[-1][1] if len(rows) == depth else 0 for month, rows in heads.items()}
        bound = sum(last.values())
        everything = all(len(rows) < depth for rows in heads.values())
        if everything or _may_stop(heads, last, bound, wanted):
            ids = sorted({path_id for rows in heads.values() for path_id, _ in rows})
            if len(ids) > MAX_CANDIDATES and not everything:
                return None
            ranked = exact(session, site_id, pieces, ids) if ids else []
            exact_rounds += 1
            if everything:
                return Top(ranked[offset:wanted], len(ranked))
            if len(ranked) >= wanted and ranked[wanted - 1].pageviews > bound:
                return Top(ranked[offset:wanted], None)
        depth *= DEEPER
    return None
