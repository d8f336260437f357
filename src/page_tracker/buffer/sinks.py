"""Where accepted page views go: :class:`HitSink` implementations.

``submit()`` returns only once the views are durable (committed to the database, or
written to Redis in Redis mode); it raises when they are not, and the caller then
answers the browser anyway and counts the loss (:mod:`page_tracker.metrics`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from page_tracker.buffer.batching import GroupCommitter
from page_tracker.db import is_poison, retry_transient
from page_tracker.extensions import Extension
from page_tracker.stats import rollup
from page_tracker.stats.counters import CachedCounterReader, TotalKey, read_totals
from page_tracker.stats.ids import IdCache
from page_tracker.stats.pageview import PageView


class HitSink(Protocol):
    def submit(self, views: Sequence[PageView]) -> None:
        """Make ``views`` durable; raise if that failed."""
        ...


class DatabaseSink:
    """Embedded mode: write-through to the database, one transaction per call.

    Group commit (one transaction for the views of many concurrent requests) is added
    around any sink by :class:`BatchingSink`.
    """

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        cache: CachedCounterReader | None = None,
        on_written: Callable[[set[str]], None] | None = None,
    ) -> None:
        """``on_written(site_ids)`` runs after each commit, before the hits are
        acknowledged (the app drops its cached reads of those sites: in-process work,
        no round trip)."""
        self.session_factory = session_factory
        self.ids = IdCache()
        self.attempts = 5
        self.cache = cache
        self.on_written = on_written

    def submit(self, views: Sequence[PageView]) -> None:
        if views:
            self.write(views)

    def write(self, views: Sequence[PageView]) -> None:
        """Commit ``views`` in one transaction, retried as a whole after a deadlock;
        then (before the hits are acknowledged) bring the counter cache up to date."""
        cache = self.cache
        if cache is None:
            retry_transient(lambda: self._transaction(views, set()), attempts=self.attempts)
        else:
            self._write_cached(cache, views)
        if self.on_written is not None:
            self.on_written({view.site_id for view in views})

    def _transaction(
        self,
        views: Sequence[PageView],
        cached: set[tuple[str, str]],
        cache: CachedCounterReader | None = None,
    ) -> tuple[rollup.TotalsAdded, dict[TotalKey, tuple[int, int]]]:
        """One transaction: the rollups, and the totals of the ``cached`` pages as it
        wrote them; returns what it added to the totals and those."""
        with self.session_factory() as session, session.begin():
            added = rollup.apply(session, views, self.ids)
            totals = read_totals(session, cached) if cached else {}
            if cache is not None:
                cache.committing()  # the commit ends this block
        return added, totals

    def _write_cached(self, cache: CachedCounterReader, views: Sequence[PageView]) -> None:
        """The write, keeping ``cache`` equal to the database: it adds what the
        transaction added to its entries, and takes the totals of its cached pages
        as the transaction read them (see :class:`CachedCounterReader`)."""
        forgets = cache.forgets
        cached = cache.cached_pages({(view.site_id, view.path) for view in views})
        try:
            added, totals = retry_transient(
                lambda: self._transaction(views, cached, cache), attempts=self.attempts
            )
        except BaseException:
            cache.abandoned()
            raise
        cache.committed(added, totals, forgets)


class BatchingSink:
    """Group commit in front of a sink: concurrent ``submit`` calls of one process are
    written together (:class:`~page_tracker.buffer.batching.GroupCommitter`). A batch
    the store refuses for its data (:func:`~page_tracker.db.is_poison`) is bisected: the
    good calls are written, a bad one raises
    :class:`~page_tracker.buffer.batching.ItemRefused`."""

    def __init__(self, inner: HitSink, *, max_batch: int = 512, linger: float = 0.0) -> None:
        self.inner = inner
        self.committer: GroupCommitter[Sequence[PageView]] = GroupCommitter(
            self._write, max_batch=max_batch, linger=linger, name="hit-sink", split_on=is_poison
        )

    def _write(self, items: Sequence[Sequence[PageView]]) -> None:
        self.inner.submit([view for views in items for view in views])

    def submit(self, views: Sequence[PageView]) -> None:
        if views:
            self.committer.submit(views)

    def submit_each(self, views: Sequence[PageView]) -> list[BaseException | None]:
        """Submit each view as a call of its own (a refused view costs no other; see
        :meth:`~page_tracker.buffer.batching.GroupCommitter.submit_each`): the error of
        each view, ``None`` for the durable ones."""
        return self.committer.submit_each([[view] for view in views]) if views else []

    def close(self) -> None:
        self.committer.close()


SINK: Extension[BatchingSink] = Extension(
    "page_tracker.sink", "where accepted page views go (group commit in front of a sink)"
)
