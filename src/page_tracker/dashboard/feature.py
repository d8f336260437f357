"""The dashboard feature: its blueprint and the strict headers of its pages."""

from __future__ import annotations

from flask import Flask

from page_tracker.dashboard import views
from page_tracker.features import Feature


def init_app(app: Flask) -> None:
    app.register_blueprint(views.blueprint)


FEATURE = Feature("dashboard", init_app=init_app)
