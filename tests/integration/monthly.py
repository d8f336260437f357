"""The invariant of the monthly rollup, checked by the tests of every write path."""

from __future__ import annotations

from collections import Counter
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from page_tracker.stats.models import DailyCount, MonthlyCount


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


def assert_months_are_sums_of_days(session: Session, site_id: str) -> None:
    """``stat_monthly`` holds exactly the sums of ``stat_daily`` by month, no other row."""
    expected = months_from_days(session, site_id)
    assert stored_months(session, site_id) == expected
