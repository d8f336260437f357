"""Imports every feature's models so ``Base.metadata`` knows all tables (for Alembic)."""

from page_tracker.auth.epoch import AccessEpoch
from page_tracker.auth.models import ApiToken, AuditEvent
from page_tracker.buffer.models import FlushedBatch
from page_tracker.imports.models import Import, ImportChunk
from page_tracker.ingest.models import Salt
from page_tracker.seedpage.models import Counter
from page_tracker.sites.models import Site, SiteHost
from page_tracker.sites.shares import ShareLink
from page_tracker.stats.models import (
    DailyCount,
    DailyDimensionCount,
    DailyPathDimensionCount,
    DailyVisitor,
    Dimension,
    Hit,
    HourlyCount,
    LifetimeVisitor,
    MonthlyCount,
    PageYear,
    Path,
    Total,
)
from page_tracker.users.models import SiteMember, User

__all__ = [
    "AccessEpoch",
    "ApiToken",
    "AuditEvent",
    "Counter",
    "DailyCount",
    "DailyDimensionCount",
    "DailyPathDimensionCount",
    "DailyVisitor",
    "Dimension",
    "FlushedBatch",
    "Hit",
    "HourlyCount",
    "Import",
    "ImportChunk",
    "LifetimeVisitor",
    "MonthlyCount",
    "PageYear",
    "Path",
    "Salt",
    "ShareLink",
    "Site",
    "SiteHost",
    "SiteMember",
    "Total",
    "User",
]
