"""The application factory: settings, logging, core extensions, then the features in order.

The features are listed here and nowhere else, lower layers first (each may use what
the ones before it set up): the sites, the accounts and sign-ins beside them, the
statistics, the buffer that decides where accepted page views go, the hit path in front
of it, the compatibility endpoints on top of the hit path and the imports of other
trackers' history beside them, the REST API and the dashboard for site owners, and the
seed page and probes, which stand on their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer
from werkzeug.middleware.proxy_fix import ProxyFix

from page_tracker import enrich, errors, headers, logs, maintenance
from page_tracker.api.feature import FEATURE as API
from page_tracker.auth.feature import FEATURE as AUTH
from page_tracker.buffer.feature import FEATURE as BUFFER
from page_tracker.cache import init_cache
from page_tracker.celery_app import celery_init_app
from page_tracker.compat.feature import FEATURE as COMPAT
from page_tracker.dashboard.feature import FEATURE as DASHBOARD
from page_tracker.db import DATABASE, init_db
from page_tracker.errors import ConfigError
from page_tracker.features import Feature, PeriodicJob
from page_tracker.health.feature import FEATURE as HEALTH
from page_tracker.imports.feature import FEATURE as IMPORTS
from page_tracker.ingest.feature import FEATURE as INGEST
from page_tracker.metrics import METRICS, HitMetrics
from page_tracker.redis_client import REDIS, make_redis_client
from page_tracker.redis_memory import check_eviction_policy
from page_tracker.seedpage.feature import FEATURE as SEED_PAGE
from page_tracker.settings import SETTINGS, Settings, load_settings
from page_tracker.sites.feature import FEATURE as SITES
from page_tracker.stats.feature import FEATURE as STATS
from page_tracker.users.feature import FEATURE as USERS

FEATURES: tuple[Feature, ...] = (
    SITES,
    USERS,
    AUTH,
    STATS,
    BUFFER,
    INGEST,
    COMPAT,
    IMPORTS,
    API,
    DASHBOARD,
    SEED_PAGE,
    HEALTH,
)


def periodic_jobs() -> list[PeriodicJob]:
    """Every feature's periodic jobs: beat's schedule."""
    return [job for feature in FEATURES for job in feature.periodic_jobs]


MAX_REQUEST_BODY = 1024 * 1024


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, but a request that brings no session cookie (an
    API call by token) gets its empty session at once (Flask builds the cookie's signer
    first, ~20 µs of a cached stats request's CPU, which only a cookie needs), and the
    signer of the app's keys is built once, not twice a request (it keeps no state)."""

    def __init__(self) -> None:
        self._signers: dict[tuple[Any, ...], URLSafeTimedSerializer | None] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, *(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        if keys not in self._signers:
            self._signers = {keys: super().get_signing_serializer(app)}  # the latest only
        return self._signers[keys]

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)


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
        logs.configure_logging(
            settings.log_config,
            settings.log_dir,
            settings.log_level,
            full_access=settings.log_full_access,
        )

    app = Flask(__name__)
    app.session_interface = CookieSessions()
    app.config.update(
        SECRET_KEY=settings.secret_key.get_secret_value(),
        TESTING=settings.env == "test",
        JSON_SORT_KEYS=False,
        # A bound for what Flask itself reads (forms, JSON); the ingest routes read their
        # bodies within their own, smaller limits (ingest.parsing.read_body).
        MAX_CONTENT_LENGTH=MAX_REQUEST_BODY,
    )
    if test_config:
        app.config.update(test_config)
    SETTINGS.put(app, settings)
    init_db(
        app,
        settings.database_url,
        pool_size=settings.pool_size,
        pool_timeout=settings.db_pool_timeout,
    )
    if settings.redis_url:
        client = REDIS.put(app, make_redis_client(settings.redis_url))
        try:
            check_eviction_policy(client, settings.redis_accept_eviction_risk)
        except ConfigError:
            client.close()
            raise
    METRICS.put(app, HitMetrics())
    init_cache(app)
    celery_init_app(app, settings, periodic_jobs())
    logs.init_request_ids(app)
    headers.init_app(app)
    errors.register_error_handlers(app)
    trust_forwarded_scheme(app, settings.trusted_proxies)
    for feature in FEATURES:
        feature.init_app(app)
    return app


def trust_forwarded_scheme(app: Flask, trusted_proxies: int) -> None:
    """Behind ``TRUSTED_PROXIES`` (nginx terminating TLS), take the request's scheme from
    the nearest proxy's ``X-Forwarded-Proto``, so URLs the app builds for readers (the
    tracking snippet's ``https://...``) name the scheme they used. The server does not
    (granian reads no forwarded headers); the address stays the peer's here, the hit path
    picks the reader's from ``X-Forwarded-For`` itself (:mod:`page_tracker.remote_address`).
    Installed before the features, so the lean ingest path in front skips it."""
    if trusted_proxies > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=0, x_proto=1)  # type: ignore[method-assign]


def create_serving_app(settings: Settings | None = None) -> Flask:
    """The app a web server's worker serves: :func:`create_app` (logging is the
    server's) plus, in embedded mode, the periodic jobs run in-process from the first
    request on (:mod:`page_tracker.maintenance`).

    The enrichment's data is loaded here, before the worker serves: loaded lazily, the
    crawler list's compilation (seconds of CPU, holding the GIL) ran in the first
    requests' threads, each of the concurrent first requests compiling it again
    (``functools.cache`` does not lock), and the worker answered nothing meanwhile
    (bench/README.md, "Embedded ingest: where the time goes").
    """
    app = create_app(settings=settings, configure_logging=False)
    maintenance.install(app, periodic_jobs())
    enrich.warm_up()
    return app


def close_app(app: Flask) -> None:
    """Release the app's threads and connections (features first, then engine and Redis)."""
    maintenance.close(app)
    for feature in reversed(FEATURES):
        feature.close_app(app)
    DATABASE.get(app).engine.dispose()
    client = REDIS.find(app)
    if client is not None:
        client.close()
