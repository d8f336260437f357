"""The application factory: settings, logging, extensions, blueprints, errors, CLI."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import redis
from flask import Flask

from page_tracker import errors, logs
from page_tracker.buffer.feature import close_scaling, init_scaling
from page_tracker.celery_app import celery_init_app
from page_tracker.compat.views import bp as compat_bp
from page_tracker.db import EXTENSION_KEY as DB_KEY
from page_tracker.db import init_db
from page_tracker.health.views import REDIS_KEY
from page_tracker.health.views import bp as health_bp
from page_tracker.ingest.feature import init_tracking
from page_tracker.seedpage.store import DatabaseCounterStore, RedisCounterStore
from page_tracker.seedpage.views import STORE_KEY
from page_tracker.seedpage.views import bp as counter_bp
from page_tracker.settings import Settings, load_settings

SETTINGS_KEY = "page_tracker.settings"


def make_redis_client(url: str) -> redis.Redis:
    """A Redis client with short timeouts: a slow Redis must not hang requests."""
    return redis.Redis.from_url(
        url, socket_timeout=2, socket_connect_timeout=2, health_check_interval=30
    )


def create_app(
    test_config: Mapping[str, Any] | None = None,
    *,
    settings: Settings | None = None,
    configure_logging: bool = True,
) -> Flask:
    """Create and configure a page-tracker app.

    ``settings`` defaults to the environment (:func:`load_settings`); ``test_config``
    is merged into ``app.config`` last. Raises :class:`~page_tracker.errors.ConfigError`
    for invalid configuration.
    """
    settings = settings or load_settings()
    if configure_logging:
        # Before the app exists, so its very first log line is formatted (Flask docs).
        logs.configure_logging(settings.log_config, settings.log_dir, settings.log_level)

    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.secret_key.get_secret_value(),
        TESTING=settings.env == "test",
        JSON_SORT_KEYS=False,
    )
    if test_config:
        app.config.update(test_config)
    app.extensions[SETTINGS_KEY] = settings

    database = init_db(app, settings.database_url)
    if settings.redis_url:
        client = make_redis_client(settings.redis_url)
        app.extensions[REDIS_KEY] = client
        app.extensions[STORE_KEY] = RedisCounterStore(client, settings.redis_key_prefix)
    else:
        app.extensions[STORE_KEY] = DatabaseCounterStore(database.sessions.session_factory)

    init_tracking(app, settings, database)
    init_scaling(app, settings, database)  # Redis mode, group commit, fast ingest path
    celery_init_app(app, settings)
    logs.init_request_ids(app)
    errors.register_error_handlers(app)
    app.register_blueprint(counter_bp)
    app.register_blueprint(health_bp)
    app.register_blueprint(compat_bp)

    return app


def get_settings(app: Flask) -> Settings:
    settings: Settings = app.extensions[SETTINGS_KEY]
    return settings


def close_app(app: Flask) -> None:
    """Release the app's connections (engine pool, Redis client)."""
    close_scaling(app)
    app.extensions[DB_KEY].engine.dispose()
    client: redis.Redis | None = app.extensions.get(REDIS_KEY)
    if client is not None:
        client.close()
