"""Where accepted page views go and where the all-time counters are read, decided once
from the configuration:

- embedded mode (no ``REDIS_URL``): :class:`~page_tracker.buffer.sinks.DatabaseSink`
  writes through to the database, :class:`~page_tracker.stats.counters.
  CachedCounterReader` reads the totals (kept by the sink's transactions);
- Redis mode: :class:`~page_tracker.buffer.redis_sink.RedisSink` writes to Redis (the
  database is its fallback), :class:`~page_tracker.buffer.redis_counters.
  RedisCounterReader` adds what Redis holds to the totals, and beat flushes Redis into
  the database (:mod:`page_tracker.buffer.tasks`).

``LIVE`` (visitors of the last five minutes) is Redis' in Redis mode and unknown in
embedded mode (:mod:`page_tracker.stats.live`).

Both sinks sit behind group commit (:class:`~page_tracker.buffer.sinks.BatchingSink`).
"""

from __future__ import annotations

from functools import partial

import redis
from flask import Flask

from page_tracker.buffer import tasks
from page_tracker.buffer.cli import flush_command
from page_tracker.buffer.dead_letters import DeadLetters
from page_tracker.buffer.live import RedisLiveVisitors
from page_tracker.buffer.redis_counters import BatchCounts, RedisCounterReader
from page_tracker.buffer.redis_keys import RedisKeys
from page_tracker.buffer.redis_sink import RedisSink
from page_tracker.buffer.sinks import SINK, BatchingSink, DatabaseSink, HitSink
from page_tracker.db import DATABASE
from page_tracker.features import Feature
from page_tracker.metrics import METRICS, add_gauge
from page_tracker.redis_client import REDIS
from page_tracker.settings import SETTINGS
from page_tracker.stats.cached import invalidate_sites
from page_tracker.stats.counters import (
    COUNTERS,
    CachedCounterReader,
    CounterReader,
    DatabaseCounterReader,
)
from page_tracker.stats.live import LIVE, LiveVisitors, NoLiveVisitors


def init_app(app: Flask) -> None:
    settings = SETTINGS.get(app)
    sessions = DATABASE.get(app).sessions.session_factory
    client = REDIS.find(app)
    sink: HitSink
    reader: CounterReader
    live: LiveVisitors
    if client is None:
        cache = CachedCounterReader(DatabaseCounterReader(sessions))
        sink = DatabaseSink(sessions, cache, on_written=partial(invalidate_sites, app=app))
        reader = cache
        live = NoLiveVisitors()
    else:
        prefix = settings.redis_key_prefix
        redis_live = RedisLiveVisitors(client, prefix)
        batch_counts = BatchCounts()  # the sink records, Busuanzi reads (one call per batch)
        sink = RedisSink(
            client, prefix, sessions, METRICS.get(app), live=redis_live, batch_counts=batch_counts
        )
        reader = RedisCounterReader(client, prefix, sessions, batch_counts)
        live = redis_live
        add_gauge(app, "redis_backlog", partial(stream_backlog, client, RedisKeys(prefix)))
        add_gauge(app, "dead_letters", DeadLetters(client, prefix).count)
    SINK.put(
        app,
        BatchingSink(
            sink, max_batch=settings.ingest_batch_max, linger=settings.ingest_batch_linger_ms / 1000
        ),
    )
    COUNTERS.put(app, reader)
    LIVE.put(app, live)


def stream_backlog(client: redis.Redis, keys: RedisKeys) -> int:
    """Stream entries written and not flushed yet (the ``redis_backlog`` gauge)."""
    return int(client.xlen(keys.stream))


def close_app(app: Flask) -> None:
    """Close the group commit: new hits are refused, the queued ones written first."""
    sink = SINK.find(app)
    if sink is not None:
        sink.close()


FEATURE = Feature(
    "buffer",
    init_app=init_app,
    close_app=close_app,
    commands=(flush_command,),
    periodic_jobs=tasks.PERIODIC_JOBS,
)
