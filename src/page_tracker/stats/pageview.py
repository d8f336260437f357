"""What is counted: :class:`PageView`, an accepted hit with its :class:`~page_tracker.
enrich.Enrichment` (it holds no IP address)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from page_tracker.enrich import Enrichment

UNKNOWN = Enrichment()


@dataclass(frozen=True, slots=True)
class PageView:
    """An accepted, enriched hit, ready to count.

    ``visitor`` is the daily-salted visitor hash (16 bytes); ``lifetime_visitor`` is stable
    across days (all-time uniques). ``timestamp`` is an aware UTC datetime. ``enrichment``
    is what the hit's headers and URLs said (browser, referrer, campaign, country ...).
    """

    site_id: str
    path: str
    hostname: str
    timestamp: datetime
    visitor: bytes
    lifetime_visitor: bytes
    title: str | None = None
    event: str | None = None
    source: str = "api"
    keep_raw: bool = False  # the site keeps raw hits (retention_days is set)
    enrichment: Enrichment = UNKNOWN

    @property
    def day(self) -> date:
        return self.timestamp.date()

    @property
    def hour(self) -> datetime:
        return self.timestamp.replace(minute=0, second=0, microsecond=0, tzinfo=None)
