"""The seed page ``GET /`` as a feature: its counter store, chosen by configuration
(Redis when ``REDIS_URL`` is set, else the database), and its view."""

from __future__ import annotations

from flask import Flask

from page_tracker.db import DATABASE
from page_tracker.features import Feature
from page_tracker.redis_client import REDIS
from page_tracker.seedpage import views
from page_tracker.seedpage.store import STORE, DatabaseCounterStore, RedisCounterStore
from page_tracker.settings import SETTINGS


def init_app(app: Flask) -> None:
    client = REDIS.find(app)
    if client is not None:
        STORE.put(app, RedisCounterStore(client, SETTINGS.get(app).redis_key_prefix))
    else:
        STORE.put(app, DatabaseCounterStore(DATABASE.get(app).sessions.session_factory))
    app.register_blueprint(views.bp)


FEATURE = Feature("seedpage", init_app=init_app)
