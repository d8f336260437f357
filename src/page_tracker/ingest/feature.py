"""The hit path as a feature: the daily salts, the ingest routes (Flask views and the lean
WSGI path in front of Flask) and the salt rotation job."""

from __future__ import annotations

from flask import Flask

from page_tracker.db import DATABASE
from page_tracker.features import Feature
from page_tracker.ingest import lean_wsgi, tasks, views
from page_tracker.ingest.rate_limit import LIMITER, make_limiter
from page_tracker.ingest.routes import ROUTES, IngestRoutes
from page_tracker.ingest.salts import SALTS, DatabaseSaltStore, RedisSaltStore
from page_tracker.redis_client import REDIS
from page_tracker.settings import SETTINGS


def init_app(app: Flask) -> None:
    client = REDIS.find(app)
    database_salts = DatabaseSaltStore(DATABASE.get(app).engine)
    if client is not None:
        prefix = SETTINGS.get(app).redis_key_prefix
        SALTS.put(app, RedisSaltStore(client, prefix, fallback=database_salts))
    else:
        SALTS.put(app, database_salts)
    settings = SETTINGS.get(app)
    limiter = make_limiter(settings, client)
    if limiter is not None:
        LIMITER.put(app, limiter)
    routes = ROUTES.put(app, IngestRoutes(app))
    app.register_blueprint(views.bp)
    lean_wsgi.install(app, routes)


FEATURE = Feature("ingest", init_app=init_app, periodic_jobs=tasks.PERIODIC_JOBS)
