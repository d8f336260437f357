"""Where accepted page views go: :class:`HitSink` implementations.

``submit()`` returns only once the views are durable (committed to the database, or
written to Redis in Redis mode); it raises when they are not, and the caller then
answers the browser anyway and counts the loss (:mod:`page_tracker.tracking.metrics`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from page_tracker.stats import rollup
from page_tracker.tracking.hits import PageView

SINK_KEY = "page_tracker.sink"


class HitSink(Protocol):
    def submit(self, views: Sequence[PageView]) -> None:
        """Make ``views`` durable; raise if that failed."""
        ...


class DatabaseSink:
    """Embedded mode: write-through, one transaction per submitted batch."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self.session_factory = session_factory
        self.ids = rollup.IdCache()

    def submit(self, views: Sequence[PageView]) -> None:
        if not views:
            return
        with self.session_factory() as session, session.begin():
            rollup.apply(session, views, self.ids)
