"""The one way integration tests create a site: as the CLI does, with public counters
by default (Busuanzi and the badge show numbers only for such sites)."""

from __future__ import annotations

from flask import Flask

from page_tracker.db import get_session
from page_tracker.sites.services import create_site


def add_site(
    app: Flask, domain: str = "example.com", *hosts: str, public_counters: bool = True
) -> str:
    """Create the site and return its public id."""
    with app.app_context():
        session = get_session()
        site = create_site(session, domain, hosts=hosts, public_counters=public_counters)
        session.commit()
        return site.id
