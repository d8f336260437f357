"""Periodic jobs of the statistics: enforce raw-hit retention, drop past days' visitor sets.

The work is in plain functions (testable without Celery); the tasks are thin wrappers
that run inside the app context (see :mod:`page_tracker.celery_app`).
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta

from celery import shared_task
from sqlalchemy import select
from sqlalchemy.orm import Session

from page_tracker.db import get_db
from page_tracker.features import PeriodicJob
from page_tracker.sites.models import Site
from page_tracker.stats.rollup import delete_daily_visitor_sets_before, delete_raw_hits_before

log = logging.getLogger(__name__)

PURGE_RAW_HITS = "page_tracker.tracking.purge_raw_hits"
PURGE_VISITOR_SETS = "page_tracker.tracking.purge_visitor_sets"
# Daily visitor sets are kept this long after their day (late flushes still dedupe).
VISITOR_SET_DAYS = 2


PERIODIC_JOBS = (
    PeriodicJob("purge-raw-hits", PURGE_RAW_HITS, timedelta(hours=1)),
    PeriodicJob("purge-visitor-sets", PURGE_VISITOR_SETS, timedelta(hours=1)),
)


def purge_raw_hits(session: Session, now: datetime) -> int:
    """Delete raw hits older than each site's ``retention_days``; return how many."""
    deleted = 0
    sites = session.execute(select(Site.id, Site.retention_days).where(Site.retention_days > 0))
    for site_id, days in sites.all():
        deleted += delete_raw_hits_before(session, site_id, now - timedelta(days=int(days or 0)))
    return deleted


@shared_task(name=PURGE_RAW_HITS)  # type: ignore[untyped-decorator]  # celery is untyped
def purge_raw_hits_task() -> int:
    with Session(get_db().engine) as session, session.begin():
        deleted = purge_raw_hits(session, datetime.now(UTC).replace(tzinfo=None))
    log.info("purged %d raw hits past their retention", deleted)
    return deleted


def purge_visitor_sets(session: Session, today: date) -> int:
    """Delete daily visitor sets older than :data:`VISITOR_SET_DAYS` days."""
    return delete_daily_visitor_sets_before(session, today - timedelta(days=VISITOR_SET_DAYS))


@shared_task(name=PURGE_VISITOR_SETS)  # type: ignore[untyped-decorator]
def purge_visitor_sets_task() -> int:
    with Session(get_db().engine) as session, session.begin():
        deleted = purge_visitor_sets(session, datetime.now(UTC).date())
    log.info("purged %d rows of past days' visitor sets", deleted)
    return deleted
