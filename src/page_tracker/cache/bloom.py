"""A Bloom filter of the keys that exist (site ids), so lookups of unknown keys are
answered without the database (cache penetration, seed 002's TODO).

``rbloom`` (a maintained Rust implementation) holds the filter; this module only keeps
it current: it is rebuilt from ``load_all()`` when older than ``refresh`` seconds (one
thread rebuilds, the others use the previous filter meanwhile), and :meth:`add` puts a
key created in this process in at once. A key created by another process is therefore
known here within ``refresh`` seconds, like every other change a worker caches.

Redis here has no RedisBloom module (``MODULE LIST`` is empty), so each process holds
its own filter; a site list is small (a million ids take ~1.2 MB at 1 % errors).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable

from rbloom import Bloom


class KnownKeys:
    """``might_contain(key)``: ``False`` means the key surely does not exist."""

    def __init__(
        self,
        load_all: Callable[[], Iterable[str]],
        refresh: float = 10.0,
        error_rate: float = 0.01,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.load_all = load_all
        self.refresh = refresh
        self.error_rate = error_rate
        self.clock = clock
        self._filter: Bloom | None = None
        self._built = 0.0
        # Added here lately: put into every rebuilt filter until the database surely
        # has them (a key may be added before its transaction commits).
        self._added: dict[str, float] = {}
        self._lock = threading.Lock()
        self._rebuilding = threading.Lock()
        self.rebuilds = 0

    def _rebuild(self) -> None:
        started = self.clock()
        keys = list(self.load_all())
        # At least 1 000 slots, and room to grow before the next rebuild.
        bloom = Bloom(max(1000, 2 * len(keys)), self.error_rate)
        bloom.update(keys)
        with self._lock:
            bloom.update(self._added)
            self._added = {
                key: when for key, when in self._added.items() if started - when < 2 * self.refresh
            }
            self._filter, self._built = bloom, started
            self.rebuilds += 1

    def might_contain(self, key: str) -> bool:
        bloom = self._filter
        if bloom is None or self.clock() - self._built >= self.refresh:
            # The first build is waited for; later ones run in one thread while the
            # others answer from the filter they have.
            if self._rebuilding.acquire(blocking=bloom is None):
                try:
                    if self._filter is bloom:  # not rebuilt while this one waited
                        self._rebuild()
                finally:
                    self._rebuilding.release()
            bloom = self._filter
        return bloom is not None and key in bloom

    def add(self, key: str) -> None:
        """``key`` now exists (created in this process)."""
        with self._lock:
            self._added[key] = self.clock()
            if self._filter is not None:
                self._filter.add(key)

    def expire(self) -> None:
        """Rebuild at the next lookup (e.g. after keys were deleted)."""
        self._built = float("-inf")
