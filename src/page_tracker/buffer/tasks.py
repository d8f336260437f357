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

import redis
from celery import shared_task
from flask import Flask, current_app
from sqlalchemy.exc import SQLAlchemyError

from page_tracker.buffer.flush import Flusher, FlushResult
from page_tracker.celery_app import PeriodicJob
from page_tracker.db import EXTENSION_KEY as DB_KEY
from page_tracker.health.views import REDIS_KEY

log = logging.getLogger(__name__)

FLUSH = "page_tracker.tracking.flush"
FORGET_BATCHES = "page_tracker.tracking.forget_flushed_batches"
FLUSH_EVERY = timedelta(seconds=2)
MAX_SECONDS = 10.0
FLUSHER_KEY = "page_tracker.flusher"


def periodic_jobs() -> list[PeriodicJob]:
    return [
        PeriodicJob("flush-hits", FLUSH, FLUSH_EVERY),
        PeriodicJob("forget-flushed-batches", FORGET_BATCHES, timedelta(hours=1)),
    ]


def get_flusher(app: Flask) -> Flusher | None:
    """The app's flusher (one per process), or ``None`` in embedded mode."""
    client: redis.Redis | None = app.extensions.get(REDIS_KEY)
    if client is None:
        return None
    flusher: Flusher | None = app.extensions.get(FLUSHER_KEY)
    if flusher is None:
        settings = app.extensions["page_tracker.settings"]
        sessions = app.extensions[DB_KEY].sessions.session_factory
        flusher = Flusher(client, settings.redis_key_prefix, sessions)
        app.extensions[FLUSHER_KEY] = flusher
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
