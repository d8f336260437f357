"""Periodic job of the hit path: rotate the daily salt of the visitor hashes.

The work is a plain function (testable without Celery); the task is a thin wrapper that
runs inside the app context (see :mod:`page_tracker.celery_app`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from celery import shared_task

from page_tracker.features import PeriodicJob
from page_tracker.ingest.salts import SALTS, SaltStore

# Task names are what beat's schedule and queued messages carry: they stay those of the
# release in which these tasks lived in page_tracker.tracking.
ROTATE_SALTS = "page_tracker.tracking.rotate_salts"


# Every 10 minutes: a new day's salt exists soon after midnight even on an idle site,
# and the past day's salt is destroyed by then (lazily on first use, too).
PERIODIC_JOBS = (PeriodicJob("rotate-salts", ROTATE_SALTS, timedelta(minutes=10)),)


def rotate_salts(salts: SaltStore, today: date) -> None:
    salts.rotate(today)


@shared_task(name=ROTATE_SALTS)  # type: ignore[untyped-decorator]  # celery is untyped
def rotate_salts_task() -> None:
    rotate_salts(SALTS.get(), datetime.now(UTC).date())
