"""Read-side queries over the rollups (the REST stats API builds on these)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from page_tracker.stats.models import SITE, DailyCount, Path


@dataclass(frozen=True, slots=True)
class DayTotal:
    day: date
    pageviews: int
    visitors: int  # daily unique visitors


def totals_by_day(session: Session, site_id: str, start: date, end: date) -> list[DayTotal]:
    """Page views and unique visitors of each UTC day from ``start`` to ``end`` inclusive
    that has any; days without views are absent (callers fill gaps for charts)."""
    rows = session.execute(
        select(DailyCount.day, DailyCount.pageviews, DailyCount.visitors)
        .where(DailyCount.site_id == site_id, DailyCount.path_id == SITE)
        .where(DailyCount.day >= start, DailyCount.day <= end)
        .order_by(DailyCount.day)
    )
    return [DayTotal(day, int(pv), int(uv)) for day, pv, uv in rows]


@dataclass(frozen=True, slots=True)
class PageTotal:
    path: str
    pageviews: int
    visitors: int  # sum of the page's daily unique visitors


def top_pages(
    session: Session, site_id: str, start: date, end: date, limit: int = 10
) -> list[PageTotal]:
    """The ``limit`` pages with the most views from ``start`` to ``end`` inclusive."""
    views = func.sum(DailyCount.pageviews)
    rows = session.execute(
        select(Path.path, views, func.sum(DailyCount.visitors))
        .join(Path, Path.id == DailyCount.path_id)
        .where(DailyCount.site_id == site_id, DailyCount.path_id != SITE)
        .where(DailyCount.day >= start, DailyCount.day <= end)
        .group_by(Path.path)
        .order_by(views.desc(), Path.path)
        .limit(limit)
    )
    return [PageTotal(path, int(pv), int(uv)) for path, pv, uv in rows]


def site_paths(session: Session, site_id: str) -> list[str]:
    """Every path the site has statistics for."""
    return list(session.scalars(select(Path.path).where(Path.site_id == site_id)))
