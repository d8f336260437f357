"""The liveness and readiness probes as a feature."""

from __future__ import annotations

from flask import Flask

from page_tracker.features import Feature
from page_tracker.health import views


def init_app(app: Flask) -> None:
    app.register_blueprint(views.bp)


FEATURE = Feature("health", init_app=init_app)
