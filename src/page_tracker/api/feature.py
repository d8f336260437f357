"""The REST API feature: sites, members, statistics and users under ``/api/v1``, the OpenAPI
document and its interactive docs (tokens and sessions are ``auth``'s)."""

from __future__ import annotations

from flask import Flask

from page_tracker.api import docs_views, hit_views, share_views, site_views, stats_views, user_views
from page_tracker.features import Feature


def init_app(app: Flask) -> None:
    app.register_blueprint(site_views.blueprint)
    app.register_blueprint(stats_views.blueprint)
    app.register_blueprint(share_views.blueprint)
    app.register_blueprint(user_views.blueprint)
    app.register_blueprint(hit_views.blueprint)
    app.register_blueprint(docs_views.blueprint)


FEATURE = Feature("api", init_app=init_app)
