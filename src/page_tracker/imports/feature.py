"""The imports feature: ``page-tracker import``, ``imports`` and ``export``; a deleted
site's imports are forgotten with it."""

from __future__ import annotations

from flask import Flask

from page_tracker.features import Feature
from page_tracker.imports.cli import export, import_group, imports_group
from page_tracker.imports.services import purge_site_imports
from page_tracker.sites.feature import on_site_deleted


def init_app(app: Flask) -> None:
    on_site_deleted(app, purge_site_imports)


FEATURE = Feature("imports", init_app=init_app, commands=(import_group, imports_group, export))
