"""Where accepted page views go: :class:`HitSink` implementations.

``submit()`` returns only once the views are durable (committed to the database, or
written to Redis in Redis mode); it raises when they are not, and the caller then
answers the browser anyway and counts the loss (:mod:`page_tracker.tracking.metrics`).
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from typing import Protocol

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from page_tracker.db import is_transient
from page_tracker.stats import rollup
from page_tracker.tracking.batching import GroupCommitter
from page_tracker.tracking.hits import PageView

SINK_KEY = "page_tracker.sink"


class HitSink(Protocol):
    def submit(self, views: Sequence[PageView]) -> None:
        """Make ``views`` durable; raise if that failed."""
        ...


class DatabaseSink:
    """Embedded mode: write-through to the database.

    With ``group_commit`` (the default) the views of concurrent requests of a process are
    written together by one writer thread, in one transaction
    (:class:`~page_tracker.tracking.batching.GroupCommitter`): each request still waits
    until its views are committed, but the cost of a commit (and of SQLite's single
    writer lock) is shared by every request waiting for it.
    """

    def __init__(
        self, session_factory: sessionmaker[Session], *, group_commit: bool = True
    ) -> None:
        self.session_factory = session_factory
        self.ids = rollup.IdCache()
        self.attempts = 5
        self.committer: GroupCommitter[Sequence[PageView]] | None = (
            GroupCommitter(self._write_groups, name="database-sink") if group_commit else None
        )

    def submit(self, views: Sequence[PageView]) -> None:
        if not views:
            return
        if self.committer is not None:
            self.committer.submit(views)
        else:
            self.write(views)

    def _write_groups(self, groups: Sequence[Sequence[PageView]]) -> None:
        self.write([view for group in groups for view in group])

    def close(self) -> None:
        if self.committer is not None:
            self.committer.close()

    def write(self, views: Sequence[PageView]) -> None:
        """Commit ``views`` in one transaction, retried as a whole after a deadlock."""
        for attempt in range(1, self.attempts + 1):
            try:
                with self.session_factory() as session, session.begin():
                    rollup.apply(session, views, self.ids)
                return
            except DBAPIError as error:
                # A deadlock rolls the whole transaction back: running it again counts
                # each view exactly once.
                if attempt == self.attempts or not is_transient(error):
                    raise
                time.sleep(random.uniform(0, 0.01 * attempt))  # noqa: S311  # nosec B311 - jitter
