"""In-process counters of what the hit path could not do (logged, never silent).

``lost`` counts accepted hits that could not be stored (store down or slow); ``by
reason`` counts every verdict. Exposed through :func:`snapshot` for health/metrics views.
"""

from __future__ import annotations

import threading
from collections import Counter

METRICS_KEY = "page_tracker.tracking_metrics"


class HitMetrics:
    """Counts per thread, summed on :meth:`snapshot`.

    Every hit counts once; a shared counter would need a lock on every hit, and that
    lock convoys the request threads under load. Each thread adds to its own
    ``Counter`` (only that thread writes it); a snapshot copies each one (``dict()`` of a
    dict is a single step under the GIL).
    """

    def __init__(self) -> None:
        self._local = threading.local()
        self._lock = threading.Lock()
        self._all: list[Counter[str]] = []

    def count(self, name: str, amount: int = 1) -> None:
        counts: Counter[str] | None = getattr(self._local, "counts", None)
        if counts is None:
            counts = self._local.counts = Counter()
            with self._lock:
                self._all.append(counts)
        counts[name] += amount

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            parts = [dict(counts) for counts in self._all]
        total: Counter[str] = Counter()
        for part in parts:
            total.update(part)
        return dict(total)
