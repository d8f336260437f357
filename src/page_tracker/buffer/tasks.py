"""Redis mode's periodic flush: a thin Celery task around :class:`~page_tracker.buffer.
flush.Flusher` (the work is a plain function, testable without Celery).

Beat runs it every :data:`FLUSH_EVERY`; each run flushes until the stream is drained or
:data:`MAX_SECONDS` passed. Runs may overlap (several workers): the consumer group hands
each entry to one of them, and the batch ids make a doubly delivered entry count once.
In embedded mode the task does nothing.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import partial

import redis
from celery import shared_task
from flask import Flask, current_app
from sqlalchemy.exc import SQLAlchemyError

from page_tracker.buffer.flush import Flusher, FlushResult
from page_tracker.db import DATABASE
from page_tracker.extensions import Extension
from page_tracker.features import PeriodicJob
from page_tracker.redis_client import REDIS
from page_tracker.settings import SETTINGS
from page_tracker.stats.cached import invalidate_sites

log = logging.getLogger(__name__)

# Task names are what beat's schedule and queued messages carry: they stay those of the
# release in which these tasks lived in page_tracker.tracking.
FLUSH = "page_tracker.tracking.flush"
FORGET_BATCHES = "page_tracker.tracking.forget_flushed_batches"
FLUSH_EVERY = timedelta(seconds=2)
MAX_SECONDS = 10.0
FLUSHER: Extension[Flusher] = Extension("page_tracker.flusher", "Redis mode's flusher")

PERIODIC_JOBS = (
    PeriodicJob("flush-hits", FLUSH, FLUSH_EVERY),
    PeriodicJob("forget-flushed-batches", FORGET_BATCHES, timedelta(hours=1)),
)


def get_flusher(app: Flask) -> Flusher | None:
    """The app's flusher (one per process, made on first use), or ``None`` in embedded
    mode."""
    client = REDIS.find(app)
    if client is None:
        return None
    flusher = FLUSHER.find(app)
    if flusher is None:
        sessions = DATABASE.get(app).sessions.session_factory
        flusher = Flusher(
            client,
            SETTINGS.get(app).redis_key_prefix,
            sessions,
            on_flushed=partial(invalidate_sites, app=app),
        )
        FLUSHER.put(app, flusher)
    return flusher


def flush(app: Flask, max_seconds: float = MAX_SECONDS) -> FlushResult:
    """Flush the app's Redis hits into its database (nothing in embedded mode).

    A failure (database or Redis down) is logged and leaves the entries pending for the
    next run; it never loses or doubles a hit.
    """
    flusher = get_flusher(app)
    if flusher is None:
        return FlushResult()
    try:
        result = flusher.flush(max_seconds=max_seconds)
    except (SQLAlchemyError, redis.RedisError, OSError) as error:
        log.warning("flush failed, will retry: %s", str(error).splitlines()[0])
        return FlushResult()
    if result.entries:
        log.info(
            "flushed %d hits (%d batches, %d already counted)",
            result.views,
            result.entries,
            result.duplicates,
        )
    return result


@shared_task(name=FLUSH)  # type: ignore[untyped-decorator]  # celery is untyped
def flush_task() -> int:
    return flush(current_app).views


@shared_task(name=FORGET_BATCHES)  # type: ignore[untyped-decorator]
def forget_flushed_batches_task() -> int:
    """Delete batch ids older than a week (their stream entries are long gone)."""
    flusher = get_flusher(current_app)
    return flusher.forget_old_batches() if flusher is not None else 0
