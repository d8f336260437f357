"""The auth feature: sign-in limits, the session cookie's settings, the token and
session endpoints."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask

from page_tracker.auth import access, epoch, epoch_mirror
from page_tracker.auth.limits import init_limiter
from page_tracker.auth.views import make_blueprint
from page_tracker.cache import CACHE
from page_tracker.features import Feature
from page_tracker.redis_client import REDIS
from page_tracker.settings import SETTINGS, Environment


def init_app(app: Flask) -> None:
    production = SETTINGS.get(app).env is Environment.PRODUCTION
    app.config.update(
        SESSION_COOKIE_NAME="pt_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # Secure wherever it is served for real (behind TLS); `make run` serves plain HTTP.
        SESSION_COOKIE_SECURE=production,
        PERMANENT_SESSION_LIFETIME=timedelta(days=14),
        # The CSRF token lives as long as the session (the default hour would sign a
        # dashboard left open out of every change).
        WTF_CSRF_TIME_LIMIT=None,
    )
    init_limiter(app)
    epoch.watch()
    settings = SETTINGS.get(app)
    access.init_app(app, settings.cache_access_ttl)
    client = REDIS.find(app)
    if client is not None:
        metrics = CACHE.get(app).metrics
        mirror = epoch_mirror.EpochMirror(
            client,
            settings.redis_key_prefix,
            settings.cache_access_ttl,
            on_error=lambda: metrics.count("redis-error"),
        )
        epoch_mirror.init_app(app, mirror)
    app.register_blueprint(make_blueprint(app))


FEATURE = Feature("auth", init_app=init_app)
