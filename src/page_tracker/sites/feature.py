"""The sites feature: the site cache of the hit path, the list of what is deleted with a
site, and ``page-tracker sites``."""

from __future__ import annotations

from flask import Flask

from page_tracker.features import Feature
from page_tracker.sites import shares
from page_tracker.sites.cli import sites
from page_tracker.sites.known import init_known_sites
from page_tracker.sites.services import SITE_CLEANUPS, SITES, SiteCleanup, SiteDirectory


def on_site_deleted(app: Flask, cleanup: SiteCleanup) -> None:
    """Have ``cleanup(session, site_id)`` run in the transaction that deletes a site."""
    SITE_CLEANUPS.get(app).append(cleanup)


def init_app(app: Flask) -> None:
    SITES.put(app, SiteDirectory())
    SITE_CLEANUPS.put(app, [shares.forget_site])
    init_known_sites(app)


FEATURE = Feature("sites", init_app=init_app, commands=(sites,))
