"""The site ids that exist, as a Bloom filter (:class:`~page_tracker.cache.KnownKeys`):
the public counters and badges answer an unknown id without a query, however many
random ids are tried.

Each process rebuilds its filter from the database every ``CACHE_KNOWN_SITES_REFRESH``
seconds; a site created in this process is added at once (:func:`site_created`), one
created by another process is known within that time (as the site cache of the hit
path sees changed sites).
"""

from __future__ import annotations

from flask import Flask, has_app_context
from sqlalchemy import select

from page_tracker.cache import KnownKeys
from page_tracker.db import DATABASE
from page_tracker.extensions import Extension
from page_tracker.settings import SETTINGS
from page_tracker.sites.models import Site

KNOWN_SITES: Extension[KnownKeys] = Extension(
    "page_tracker.known_sites", "a Bloom filter of the site ids (unknown ids cost no query)"
)


def init_known_sites(app: Flask) -> None:
    sessions = DATABASE.get(app).sessions.session_factory

    def site_ids() -> list[str]:
        with sessions() as session:
            return list(session.scalars(select(Site.id)))

    refresh = SETTINGS.get(app).cache_known_sites_refresh
    KNOWN_SITES.put(app, KnownKeys(site_ids, refresh=refresh))


def might_exist(site_id: str) -> bool:
    """``False`` when no site has this id (answered without a query)."""
    known = KNOWN_SITES.find()
    return known is None or known.might_contain(site_id)


def site_created(site_id: str) -> None:
    """Put a new site's id into this process's filter (a no-op outside an app)."""
    known = KNOWN_SITES.find() if has_app_context() else None
    if known is not None:
        known.add(site_id)
