"""In-process counters of what the hit path could not do (logged, never silent).

``lost`` counts accepted hits that could not be stored (store down or slow); ``by
reason`` counts every verdict. Exposed through :func:`snapshot` for health/metrics views.
"""

from __future__ import annotations

import threading
from collections import Counter

METRICS_KEY = "page_tracker.tracking_metrics"


class HitMetrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def count(self, name: str, amount: int = 1) -> None:
        with self._lock:
            self._counts[name] += amount

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)
