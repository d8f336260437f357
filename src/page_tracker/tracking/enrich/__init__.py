"""Hit enrichment: user agent, bots, referrer, campaign, country, screen; visitor hashes.

Public API: :func:`enrich` -> :class:`Enrichment`, and :func:`visitor_hash`.
Everything here is pure: no network, no database, no settings.
"""

from page_tracker.tracking.enrich.enrich import Enrichment, enrich
from page_tracker.tracking.enrich.visitors import visitor_hash

__all__ = ["Enrichment", "enrich", "visitor_hash"]
