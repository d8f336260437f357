"""Imports every feature's models so ``Base.metadata`` knows all tables (for Alembic)."""

from page_tracker.counter.models import Counter
from page_tracker.sites.models import Site, SiteHost
from page_tracker.stats.models import (
    DailyCount,
    DailyDimensionCount,
    DailyVisitor,
    Dimension,
    Hit,
    HourlyCount,
    LifetimeVisitor,
    Path,
    Total,
)
from page_tracker.tracking.models import FlushedBatch, Salt

__all__ = [
    "Counter",
    "DailyCount",
    "DailyDimensionCount",
    "DailyVisitor",
    "Dimension",
    "FlushedBatch",
    "Hit",
    "HourlyCount",
    "LifetimeVisitor",
    "Path",
    "Salt",
    "Site",
    "SiteHost",
    "Total",
]
