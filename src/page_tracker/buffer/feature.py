"""Wire Redis mode and the fast ingest path into an app (after :func:`init_tracking`).

- Redis mode (``REDIS_URL`` set): :class:`~page_tracker.buffer.redis_sink.RedisSink`
  (database fallback) and :class:`~page_tracker.buffer.redis_sink.RedisCounterReader`
  replace the embedded sink and reader; a Celery beat job flushes Redis to the database
  (:mod:`page_tracker.buffer.tasks`).
- Both modes: the sink is wrapped in group commit
  (:class:`~page_tracker.buffer.redis_sink.BatchingSink`) and the ingest routes are
  answered by :class:`~page_tracker.ingest.lean_wsgi.IngestFastPath`.
"""

from __future__ import annotations

import redis
from flask import Flask

from page_tracker.buffer.redis_sink import BatchingSink, RedisCounterReader, RedisSink
from page_tracker.buffer.sinks import SINK_KEY, HitSink
from page_tracker.db import Database
from page_tracker.health.views import REDIS_KEY
from page_tracker.ingest import lean_wsgi as fastpath
from page_tracker.metrics import METRICS_KEY
from page_tracker.settings import Settings
from page_tracker.stats.counters import COUNTERS_KEY


def init_scaling(app: Flask, settings: Settings, database: Database) -> None:
    factory = database.sessions.session_factory
    sink: HitSink = app.extensions[SINK_KEY]
    client: redis.Redis | None = app.extensions.get(REDIS_KEY)
    if client is not None:
        prefix = settings.redis_key_prefix
        sink = RedisSink(client, prefix, factory, app.extensions[METRICS_KEY])
        app.extensions[COUNTERS_KEY] = RedisCounterReader(client, prefix, factory)
    app.extensions[SINK_KEY] = BatchingSink(
        sink, max_batch=settings.ingest_batch_max, linger=settings.ingest_batch_linger_ms / 1000
    )
    fastpath.install(app)


def close_scaling(app: Flask) -> None:
    """Stop the group-commit writer (after writing what is queued)."""
    sink = app.extensions.get(SINK_KEY)
    if isinstance(sink, BatchingSink):
        sink.close()
