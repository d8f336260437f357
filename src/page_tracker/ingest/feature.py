"""Wire the tracking core into an app: sink, counter reader, site directory, salts."""

from __future__ import annotations

import redis
from flask import Flask

from page_tracker.buffer.sinks import SINK_KEY, DatabaseSink
from page_tracker.db import Database
from page_tracker.health.views import REDIS_KEY
from page_tracker.ingest.salts import DatabaseSaltStore, RedisSaltStore
from page_tracker.ingest.verdict import SALTS_KEY, SITES_KEY
from page_tracker.ingest.views import bp
from page_tracker.metrics import METRICS_KEY, HitMetrics
from page_tracker.settings import Settings
from page_tracker.sites.services import SiteDirectory
from page_tracker.stats.counters import COUNTERS_KEY, DatabaseCounterReader
from page_tracker.stats.public_counters import bp as public_bp


def init_tracking(app: Flask, settings: Settings, database: Database) -> None:
    """Register the tracking extensions and blueprint.

    Embedded mode writes through to the database. In Redis mode the Redis feature may
    replace ``page_tracker.sink`` and ``page_tracker.counters`` after this ran.
    """
    factory = database.sessions.session_factory
    app.extensions[SITES_KEY] = SiteDirectory()
    app.extensions[METRICS_KEY] = HitMetrics()
    app.extensions[SINK_KEY] = DatabaseSink(factory)
    app.extensions[COUNTERS_KEY] = DatabaseCounterReader(factory)
    client: redis.Redis | None = app.extensions.get(REDIS_KEY)
    if client is not None:
        app.extensions[SALTS_KEY] = RedisSaltStore(client, settings.redis_key_prefix)
    else:
        app.extensions[SALTS_KEY] = DatabaseSaltStore(database.engine)
    app.register_blueprint(bp)
    app.register_blueprint(public_bp)
