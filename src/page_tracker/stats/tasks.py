"""Periodic jobs of the statistics: enforce raw-hit retention, drop past days' visitor sets.

The work is in plain functions (:mod:`page_tracker.stats.purge`, testable without
Celery); the tasks are thin wrappers that run inside the app context (see
:mod:`page_tracker.celery_app`).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from celery import shared_task
from sqlalchemy.orm import Session

from page_tracker.db import get_db
from page_tracker.features import PeriodicJob
from page_tracker.stats.purge import purge_raw_hits, purge_visitor_sets

log = logging.getLogger(__name__)

# Task names are what beat's schedule and queued messages carry: they stay those of the
# release in which these tasks lived in page_tracker.tracking.
PURGE_RAW_HITS = "page_tracker.tracking.purge_raw_hits"
PURGE_VISITOR_SETS = "page_tracker.tracking.purge_visitor_sets"

PERIODIC_JOBS = (
    PeriodicJob("purge-raw-hits", PURGE_RAW_HITS, timedelta(hours=1)),
    PeriodicJob("purge-visitor-sets", PURGE_VISITOR_SETS, timedelta(hours=1)),
)


@shared_task(name=PURGE_RAW_HITS)  # type: ignore[untyped-decorator]  # celery is untyped
def purge_raw_hits_task() -> int:
    with Session(get_db().engine) as session, session.begin():
        deleted = purge_raw_hits(session, datetime.now(UTC).replace(tzinfo=None))
    log.info("purged %d raw hits past their retention", deleted)
    return deleted


@shared_task(name=PURGE_VISITOR_SETS)  # type: ignore[untyped-decorator]
def purge_visitor_sets_task() -> int:
    with Session(get_db().engine) as session, session.begin():
        deleted = purge_visitor_sets(session, datetime.now(UTC).date())
    log.info("purged %d rows of past days' visitor sets", deleted)
    return deleted
