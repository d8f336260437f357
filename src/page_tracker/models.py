"""Imports every feature's models so ``Base.metadata`` knows all tables (for Alembic)."""

from page_tracker.counter.models import Counter

__all__ = ["Counter"]
