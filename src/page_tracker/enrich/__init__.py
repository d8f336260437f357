"""Hit enrichment: user agent, bots, referrer, campaign, country, screen; visitor hashes.

Public API: :func:`enrich` -> :class:`Enrichment`, :func:`visitor_hash` (and
:func:`visitor_hashes`, one hit under several salts), and
:func:`warm_up` (optional: load the bundled data before the first hit).
Everything here is pure: no network, no database, no settings.
"""

from page_tracker.enrich.enrich import Enrichment, enrich, warm_up
from page_tracker.enrich.visitors import visitor_hash, visitor_hashes

__all__ = ["Enrichment", "enrich", "visitor_hash", "visitor_hashes", "warm_up"]
