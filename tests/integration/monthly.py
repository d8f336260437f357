"""The invariants of the monthly rollup and of the months each page has rows in
(``stat_page_years``), checked by the tests of every write path."""

from __future__ import annotations

from collections import Counter
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from page_tracker.stats.models import SITE, DailyCount, MonthlyCount, PageYear


def months_from_days(session: Session, site_id: str) -> dict[tuple[int, date], tuple[int, int]]:
    """``stat_daily`` of a site summed by (path, month) in Python (the plain answer)."""
    views: Counter[tuple[int, date]] = Counter()
    visitors: Counter[tuple[int, date]] = Counter()
    for day, path_id, pv, uv in session.execute(
        select(DailyCount.day, DailyCount.path_id, DailyCount.pageviews, DailyCount.visitors).where(
            DailyCount.site_id == site_id
        )
    ):
        key = (path_id, day.replace(day=1))
        views[key] += pv
        visitors[key] += uv
    return {key: (views[key], visitors[key]) for key in views if views[key] or visitors[key]}


def stored_months(session: Session, site_id: str) -> dict[tuple[int, date], tuple[int, int]]:
    return {
        (path_id, month): (pv, uv)
        for path_id, month, pv, uv in session.execute(
            select(
                MonthlyCount.path_id,
                MonthlyCount.month,
                MonthlyCount.pageviews,
                MonthlyCount.visitors,
            ).where(MonthlyCount.site_id == site_id)
        )
    }


def years_from_months(session: Session, site_id: str) -> dict[tuple[int, int], tuple[int, ...]]:
    """``(year, path)`` -> (bits of the months with a ``stat_monthly`` row, their page
    views, their visitors): the plain answer ``stat_page_years`` must hold, pages only."""
    years: dict[tuple[int, int], list[int]] = {}
    for (path_id, month), (pv, uv) in stored_months(session, site_id).items():
        if path_id != SITE:
            found = years.setdefault((month.year, path_id), [0, 0, 0])
            found[0] |= 1 << (month.month - 1)
            found[1] += pv
            found[2] += uv
    return {key: tuple(value) for key, value in years.items()}


def stored_years(session: Session, site_id: str) -> dict[tuple[int, int], tuple[int, ...]]:
    return {
        (year, path_id): (months, pv, uv)
        for year, path_id, months, pv, uv in session.execute(
            select(
                PageYear.year,
                PageYear.path_id,
                PageYear.months,
                PageYear.pageviews,
                PageYear.visitors,
            ).where(PageYear.site_id == site_id)
        )
    }


def assert_months_are_sums_of_days(session: Session, site_id: str) -> None:
    """``stat_monthly`` holds exactly the sums of ``stat_daily`` by month, no other row,
    and ``stat_page_years`` exactly the months of each page that have a row and their sums."""
    expected = months_from_days(session, site_id)
    assert stored_months(session, site_id) == expected
    assert stored_years(session, site_id) == years_from_months(session, site_id)
