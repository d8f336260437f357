"""The users feature: ``page-tracker users``; a deleted site loses its memberships."""

from __future__ import annotations

from flask import Flask

from page_tracker.features import Feature
from page_tracker.sites.feature import on_site_deleted
from page_tracker.users.cli import users
from page_tracker.users.memberships import forget_site


def init_app(app: Flask) -> None:
    # The foreign key cascades too; deleting explicitly keeps SQLite databases whose
    # connections run without PRAGMA foreign_keys just as clean.
    on_site_deleted(app, forget_site)


FEATURE = Feature("users", init_app=init_app, commands=(users,))
