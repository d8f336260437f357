"""The pages of a site ranked by page views over a span of UTC time, read from the
coarsest rollups that cover it exactly (:mod:`page_tracker.stats.cover`).

The first pages come from :func:`~page_tracker.stats.top_pages.top_pages` (reads the
best pages of each month, not every page) and the ``total`` from a count of the pages;
a search, a deep offset and data too flat for it run the plain query: sums by path, a
window count, the join with the paths for the tie-break by path, all in SQL (ranking
20 000 summed paths in Python measured 2x slower on PostgreSQL, bench/README.md). The
plain query reads a span that covers most of a UTC year as the year's row of each page
(``stat_page_years``) minus the rest of the year (:func:`~page_tracker.stats.cover.signed_cover`):
365 days with mid-month edges are 20 000 year rows and two half months of days on
the bench's data, not eleven months of 20 000 rows each.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select, true, union_all
from sqlalchemy.orm import Session

from page_tracker.stats.cover import Cover, cover, signed_cover
from page_tracker.stats.models import (
    SITE,
    DailyCount,
    HourlyCount,
    MonthlyCount,
    PageYear,
    Path,
)
from page_tracker.stats.page_count import count_pages
from page_tracker.stats.top_pages import top_pages


@dataclass(frozen=True, slots=True)
class RankedPage:
    path: str
    title: str | None
    pageviews: int
    visitors: int


def _pieces(site_id: str, pieces: Cover) -> list[tuple[Any, ColumnElement[bool]]]:
    """Each rollup a piece of the span is in, with the condition selecting its rows."""
    found: list[tuple[Any, ColumnElement[bool]]] = []
    tables: tuple[tuple[Any, Any, list[Any], bool], ...] = (
        (MonthlyCount, MonthlyCount.month, pieces.months, True),
        (DailyCount, DailyCount.day, pieces.days, True),
        (HourlyCount, HourlyCount.hour, pieces.hours, False),
    )
    for table, moment, spans, inclusive in tables:
        if spans:
            within = or_(
                *(
                    (moment >= first) & ((moment <= last) if inclusive else (moment < last))
                    for first, last in spans
                )
            )
            found.append((table, (table.site_id == site_id) & (table.path_id != SITE) & within))
    return found


def _signed_pieces(
    site_id: str, low: datetime, high: datetime
) -> list[tuple[Any, ColumnElement[bool], int]]:
    """The span's rows as whole years (``stat_page_years``) plus and minus the pieces
    left (:func:`~page_tracker.stats.cover.signed_cover`), or as its own pieces, with
    the sign each piece's rows add with."""
    signed = signed_cover(low, high)
    found = [(table, where, 1) for table, where in _pieces(site_id, signed.plus)]
    found += [(table, where, -1) for table, where in _pieces(site_id, signed.minus)]
    if signed.years:
        where = (PageYear.site_id == site_id) & PageYear.year.in_(signed.years)
        found.append((PageYear, where, 1))
    return found


def ranked_pages(
    session: Session,
    site_id: str,
    low: datetime,
    high: datetime,
    *,
    limit: int,
    offset: int,
    only: ColumnElement[bool] | None = None,
) -> tuple[int, list[RankedPage]]:
    """How many paths had views in the naive UTC span ``[low, high)`` (hours starting in
    it), and ``limit`` of them from ``offset`` by page views, then path; ``only`` (a
    condition on :class:`Path`, a search's) keeps just the paths it holds for."""
    span = cover(low, high)
    if only is None:
        top = top_pages(
            session, site_id, span, limit=limit, offset=offset, signed=signed_cover(low, high)
        )
        if top is not None:
            total = count_pages(session, site_id, span) if top.total is None else top.total
            ranked = [RankedPage(p.path, p.title, p.pageviews, p.visitors) for p in top.pages]
            return total, ranked
    pieces = _signed_pieces(site_id, low, high)
    if not pieces:
        return 0, []
    if only is not None:
        kept = select(Path.id).where(Path.site_id == site_id, only)
        pieces = [(table, where & table.path_id.in_(kept), sign) for table, where, sign in pieces]
    rows: Any
    if len(pieces) == 1:
        ((model, where, _sign),) = pieces
        rows = model.__table__
    else:
        rows = union_all(
            *(
                select(t.path_id, t.pageviews, t.visitors).where(w)
                if sign > 0
                else select(t.path_id, -t.pageviews, -t.visitors).where(w)
                for t, w, sign in pieces
            )
        ).subquery()
        where = true()
    pv, uv = func.sum(rows.c.pageviews), func.sum(rows.c.visitors)
    grouped = (
        select(rows.c.path_id, pv.label("pv"), uv.label("uv")).where(where).group_by(rows.c.path_id)
    )
    if any(sign < 0 for _t, _w, sign in pieces):
        # A page whose rows of the year all lie outside the span sums to nothing: it is
        # not in the span (a stored row always holds a view or a visitor: the write path
        # adds views, an import taken back deletes the rows it leaves at zero).
        grouped = grouped.having((pv != 0) | (uv != 0))
    sums = grouped.subquery()
    # Ranked by page views alone first: a page among the first ``offset + limit`` by
    # views then path has at most that rank (one plus the pages with more views), so
    # only the pages up to it, ties at the cut included, are joined with their paths
    # and sorted by name (on flat data 540 of 20 000, where every page was joined and
    # sorted). The count is a window over the same order, so one sort serves both
    # (``OVER ()`` was a second pass: server CPU of the whole query, PostgreSQL 110 ->
    # 65 ms, MariaDB 190 -> 158 ms, bench/README.md).
    by_views = sums.c.pv.desc()
    page = select(
        sums,
        func.count().over(order_by=by_views, rows=(None, None)).label("total"),
        func.rank().over(order_by=by_views).label("place"),
    ).subquery()
    found = session.execute(
        select(Path.path, Path.title, page.c.pv, page.c.uv, page.c.total)
        .join(Path, Path.id == page.c.path_id)
        .where(page.c.place <= offset + limit)
        .order_by(page.c.pv.desc(), Path.path)
        .limit(limit)
        .offset(offset)
    ).all()
    if found:
        total = int(found[0].total)
    elif offset == 0:
        total = 0
    else:  # past the end: no row carries the count
        total = int(session.scalar(select(func.count()).select_from(grouped.subquery())) or 0)
    return total, [RankedPage(path, title, int(pv), int(uv)) for path, title, pv, uv, _ in found]
