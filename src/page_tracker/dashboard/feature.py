"""The dashboard feature: its blueprints, their strict headers and the languages."""

from __future__ import annotations

from flask import Flask

from page_tracker.dashboard import (
    language_views,
    settings_views,
    share_views,
    token_views,
    views,
)
from page_tracker.dashboard.i18n import init_i18n
from page_tracker.features import Feature


def init_app(app: Flask) -> None:
    init_i18n(app)
    app.register_blueprint(views.blueprint)
    app.register_blueprint(settings_views.blueprint)
    app.register_blueprint(token_views.blueprint)
    app.register_blueprint(share_views.blueprint)
    app.register_blueprint(language_views.blueprint)


FEATURE = Feature("dashboard", init_app=init_app)
