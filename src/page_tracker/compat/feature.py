"""The compatibility endpoints (Busuanzi, Plausible) as a feature."""

from __future__ import annotations

from flask import Flask

from page_tracker.compat import busuanzi_route, views
from page_tracker.features import Feature


def init_app(app: Flask) -> None:
    app.register_blueprint(views.bp)
    busuanzi_route.install(app)


FEATURE = Feature("compat", init_app=init_app)
