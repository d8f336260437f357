"""Read-side queries over the rollups (the REST stats API builds on these)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from page_tracker.stats.models import SITE, DailyCount


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
