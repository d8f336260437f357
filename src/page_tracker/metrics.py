"""In-process counters of the hit path: one per verdict reason (``accepted``, ``bot``,
``store-unavailable`` ...), ``redis-fallback`` for hits the Redis sink wrote to the
database instead, and ``db-pool-exhausted`` for requests refused because every pooled
database connection was in use (overload: answered at once, see
:func:`page_tracker.db.is_pool_timeout`). :meth:`HitMetrics.snapshot` sums them; the
failures behind ``store-unavailable`` are logged too, never silent.
"""

from __future__ import annotations

import threading
import weakref
from collections import Counter
from collections.abc import Callable

from flask import Flask

from page_tracker.extensions import Extension

POOL_EXHAUSTED = "db-pool-exhausted"


class _ThreadCounts:
    """One thread's counts, held only by that thread's ``threading.local`` storage, so
    it is released when the thread ends."""

    __slots__ = ("__weakref__", "counts")

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()


class HitMetrics:
    """Counts per thread, summed on :meth:`snapshot`.

    Every hit counts once; a shared counter would need a lock on every hit, and that
    lock convoys the request threads under load. Each thread adds to its own
    ``Counter`` (only that thread writes it); a snapshot copies each one (``dict()`` of a
    dict is a single step under the GIL). When a thread ends (servers retire idle
    threads), its counts move into ``_retired``, so memory stays bounded.
    """

    def __init__(self) -> None:
        self._local = threading.local()
        # Re-entrant: a thread's end can run _retire while this thread holds the lock.
        self._lock = threading.RLock()
        self._live: dict[int, Counter[str]] = {}
        self._retired: Counter[str] = Counter()

    def count(self, name: str, amount: int = 1) -> None:
        mine: _ThreadCounts | None = getattr(self._local, "mine", None)
        if mine is None:
            mine = self._local.mine = _ThreadCounts()
            with self._lock:
                self._live[id(mine)] = mine.counts
            weakref.finalize(mine, self._retire, id(mine))
        mine.counts[name] += amount

    def _retire(self, key: int) -> None:
        with self._lock:
            counts = self._live.pop(key, None)
            if counts is not None:
                self._retired.update(counts)

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            total = Counter(self._retired)
            parts = [dict(counts) for counts in self._live.values()]
        for part in parts:
            total.update(part)
        return dict(total)


METRICS: Extension[HitMetrics] = Extension(
    "page_tracker.tracking_metrics", "counts of hit verdicts and of hits stored by a fallback"
)


GAUGES: Extension[dict[str, Callable[[], int]]] = Extension(
    "page_tracker.gauges",
    "levels features report (read when asked, e.g. by /readyz): name -> reader",
)


def add_gauge(app: Flask, name: str, read: Callable[[], int]) -> None:
    """Report ``read()`` as ``name`` wherever the app shows its gauges (``/readyz``)."""
    gauges = GAUGES.find(app)
    if gauges is None:
        gauges = GAUGES.put(app, {})
    gauges[name] = read
