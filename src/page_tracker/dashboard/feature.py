"""The dashboard feature: its blueprint and the strict headers of its pages."""

from __future__ import annotations

from flask import Flask

from page_tracker.dashboard import views
from page_tracker.features import Feature


def init_app(app: Flask) -> None:
    # Templates mark their text with _() from the start; these null translations serve
    # English until a message catalog is installed.
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
    app.register_blueprint(views.blueprint)


FEATURE = Feature("dashboard", init_app=init_app)
