"""Deleting statistics: everything of a deleted site, raw hits past their site's
retention, and daily visitor sets once their day's counts are final."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from page_tracker.sites.models import Site
from page_tracker.stats.models import (
    DailyCount,
    DailyDimensionCount,
    DailyPathDimensionCount,
    DailyVisitor,
    Hit,
    HourlyCount,
    LifetimeVisitor,
    MonthlyCount,
    PageYear,
    Path,
    Total,
)

# Daily visitor sets are kept this long after their day (late flushes still dedupe).
VISITOR_SET_DAYS = 2


def purge_site(session: Session, site_id: str) -> None:
    """Delete every statistic of a site (used when the site is deleted)."""
    for model in (
        Hit,
        LifetimeVisitor,
        Total,
        DailyVisitor,
        DailyDimensionCount,
        DailyPathDimensionCount,
        DailyCount,
        MonthlyCount,
        PageYear,
        HourlyCount,
        Path,
    ):
        session.execute(delete(model).where(model.site_id == site_id))


def delete_raw_hits_before(session: Session, site_id: str, before: date) -> int:
    """Retention: delete a site's raw hits older than ``before``; return how many."""
    result = session.execute(delete(Hit).where(Hit.site_id == site_id, Hit.timestamp < before))
    return int(result.rowcount)  # type: ignore[attr-defined]


def delete_daily_visitor_sets_before(session: Session, before: date) -> int:
    """Delete the daily visitor sets of days before ``before``; return how many rows.

    A day's set only decides whether a view is a day's first of its visitor; once no
    more views of that day can arrive (keep a margin for late Redis flushes), its counts
    are final in ``stat_daily`` and the set is dead weight.
    """
    result = session.execute(delete(DailyVisitor).where(DailyVisitor.day < before))
    return int(result.rowcount)  # type: ignore[attr-defined]


def purge_raw_hits(session: Session, now: datetime) -> int:
    """Delete raw hits older than each site's ``retention_days``; return how many."""
    deleted = 0
    sites = session.execute(select(Site.id, Site.retention_days).where(Site.retention_days > 0))
    for site_id, days in sites.all():
        deleted += delete_raw_hits_before(session, site_id, now - timedelta(days=int(days or 0)))
    return deleted


def purge_visitor_sets(session: Session, today: date) -> int:
    """Delete daily visitor sets older than :data:`VISITOR_SET_DAYS` days."""
    return delete_daily_visitor_sets_before(session, today - timedelta(days=VISITOR_SET_DAYS))
