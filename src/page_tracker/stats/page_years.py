"""Which months of each UTC year a page has rows in (``stat_page_years``,
:class:`~page_tracker.stats.models.PageYear`): written, rebuilt and read.

:func:`mark` is called by every writer of ``stat_monthly`` with the very rows it adds
(the live rollup, an import); bits are OR-ed in and the page views and visitors added by
one upsert, so concurrent writers commute. :func:`rebuild` recomputes a
page's years from ``stat_monthly`` where monthly rows may have gone (an import taken
back). :func:`pages_in_months` selects the pages with a row in a range of whole months,
one row a page and year touched.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Table, delete, or_, select
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from page_tracker.stats.ids import chunks
from page_tracker.stats.models import SITE, MonthlyCount, PageYear

ALL_MONTHS = 0xFFF


def bit(month: date) -> int:
    """The bit of ``month`` in its year's ``months``."""
    return 1 << (month.month - 1)


# (site, year, path_id) -> [month bits, page views, visitors]
Years = dict[tuple[str, int, int], list[int]]


def _years_of(rows: Iterable[tuple[str, date, int, int, int]]) -> Years:
    """``(site, month, path_id, page views, visitors)`` monthly additions by page and year."""
    years: Years = {}
    for site, month, path_id, pageviews, visitors in rows:
        if path_id != SITE:
            found = years.setdefault((site, month.year, path_id), [0, 0, 0])
            found[0] |= bit(month)
            found[1] += pageviews
            found[2] += visitors
    return years


@functools.lru_cache(maxsize=4)
def _upsert(table: Table, dialect: str) -> Any:
    """OR the month bits in, add the page views and visitors."""
    c = table.c
    if dialect == "mysql":
        mine = mysql.insert(table)
        new = mine.inserted
        return mine.on_duplicate_key_update(
            months=c.months.op("|")(new.months),
            pageviews=c.pageviews + new.pageviews,
            visitors=c.visitors + new.visitors,
        )
    module: Any = postgresql if dialect == "postgresql" else sqlite
    stmt = module.insert(table)
    new = stmt.excluded
    # Every batch changes the sums now, so no "only when a bit is new" condition.
    return stmt.on_conflict_do_update(
        index_elements=["site_id", "year", "path_id"],
        set_={
            "months": c.months.op("|")(new.months),
            "pageviews": c.pageviews + new.pageviews,
            "visitors": c.visitors + new.visitors,
        },
    )


def mark(session: Session, rows: Iterable[tuple[str, date, int, int, int]]) -> None:
    """Add the ``(site, month, path_id, page views, visitors)`` additions to
    ``stat_monthly`` to the pages' years: the month's bit, the views and visitors (the
    caller's transaction; path 0, the site, is not kept)."""
    years = _years_of(rows)
    if not years:
        return
    statement = _upsert(PageYear.__table__, session.get_bind().dialect.name)
    values = [
        {
            "site_id": site,
            "year": year,
            "path_id": path_id,
            "months": m,
            "pageviews": v,
            "visitors": u,
        }
        for (site, year, path_id), (m, v, u) in sorted(years.items())  # lock order: no deadlocks
    ]
    for chunk in chunks(values):
        session.execute(statement, list(chunk))


def rebuild(session: Session, site_id: str, path_ids: Iterable[int]) -> None:
    """Recompute the years of ``path_ids`` from ``stat_monthly`` (after monthly rows were
    deleted or taken down): rows of years left without a month go."""
    wanted = sorted({p for p in path_ids if p != SITE})
    for chunk in chunks(wanted):
        session.execute(
            delete(PageYear).where(PageYear.site_id == site_id, PageYear.path_id.in_(chunk))
        )
        months = session.execute(
            select(
                MonthlyCount.month,
                MonthlyCount.path_id,
                MonthlyCount.pageviews,
                MonthlyCount.visitors,
            ).where(MonthlyCount.site_id == site_id, MonthlyCount.path_id.in_(chunk))
        )
        mark(session, ((site_id, month, path_id, v, u) for month, path_id, v, u in months))


def _years(first: date, last: date) -> dict[int, int]:
    """Year -> bits of the months ``first`` to ``last`` (first days)."""
    found: dict[int, int] = {}
    for year in range(first.year, last.year + 1):
        low = first.month if year == first.year else 1
        high = last.month if year == last.year else 12
        found[year] = ((1 << high) - 1) & ~((1 << (low - 1)) - 1)
    return found


def _having(site_id: str, years: dict[int, int], table: Any = PageYear) -> ColumnElement[bool]:
    found: ColumnElement[bool] = (table.site_id == site_id) & or_(
        *(
            (table.year == year) & (table.months.bitwise_and(bits) != 0)
            if bits != ALL_MONTHS
            else table.year == year
            for year, bits in sorted(years.items())
        )
    )
    return found


def in_months(site_id: str, first: date, last: date, table: Any = PageYear) -> ColumnElement[bool]:
    """The condition on ``table`` (:class:`PageYear` or an alias of it) of the rows with
    a month from ``first`` to ``last`` (first days of months)."""
    return _having(site_id, _years(first, last), table)


def in_any_of(site_id: str, months: Iterable[date]) -> ColumnElement[bool]:
    """The condition on :class:`PageYear` of the rows with one of ``months``."""
    years: dict[int, int] = {}
    for month in months:
        years[month.year] = years.get(month.year, 0) | bit(month)
    return _having(site_id, years)


def only_in(site_id: str, months: Iterable[date], whole: tuple[date, date]) -> list[Any]:
    """Selects of the pages marked in one of ``months`` and in none of the months
    ``whole[0]`` to ``whole[1]``, one a year of ``months`` (as one OR, PostgreSQL
    misjudged the probe of the other years and compiled it with JIT: 17 ms for 1): a
    bit test where both lie in the row's year, an anti-join with the page's other years
    where they do not."""
    edges: dict[int, int] = {}
    for month in months:
        edges[month.year] = edges.get(month.year, 0) | bit(month)
    wholes = _years(*whole)
    other = aliased(PageYear)
    found = []
    for year, bits in sorted(edges.items()):
        marked = (
            (PageYear.site_id == site_id)
            & (PageYear.year == year)
            & (PageYear.months.bitwise_and(bits) != 0)
        )
        if year in wholes:
            marked &= PageYear.months.bitwise_and(wholes[year]) == 0
        elsewhere = {y: b for y, b in wholes.items() if y != year}
        if elsewhere:
            in_other = select(other.path_id).where(
                _having(site_id, elsewhere, other), other.path_id == PageYear.path_id
            )
            marked &= ~in_other.exists()
        found.append(select(PageYear.path_id).where(marked))
    return found


def pages_in_months(site_id: str, first: date, last: date) -> Any:
    """A select of the pages with a ``stat_monthly`` row from ``first`` to ``last``
    (first days of months): a page once for each year of the span it has months in."""
    return select(PageYear.path_id).where(in_months(site_id, first, last))


def one_year(first: date, last: date) -> bool:
    """Whether the months ``first`` to ``last`` lie in one year (a page is then one row)."""
    return first.year == last.year
