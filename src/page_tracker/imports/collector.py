"""Fewer passes of Python's cyclic garbage collector while an import runs.

An import allocates millions of small lists and tuples (a chunk's columns, counters
and rollup rows) and keeps them until its chunk is written. By default the collector
runs a pass every 700 net allocations, and its older generations walk everything
alive, the app's whole heap included: that was ~40 % of an import's CPU time, finding
nothing (the counters hold no reference cycles). While an import runs, the objects
already alive are frozen out of the collector's way (:func:`gc.freeze`) and a young
pass runs every :data:`YOUNG_PASS` allocations instead. The collector stays on, so
cyclic garbage (a chunk's database session) is still freed, a pass later. Both
settings are process-wide: runs that overlap (worker threads) share one pause, which
ends with the last of them.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

YOUNG_PASS = 100_000  # allocations between two young passes (the default is 700)


class _Pause:
    """The process's one pause: how many runs are inside it, and the settings before."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.runs = 0
        self.saved: tuple[int, ...] = ()

    def enter(self) -> None:
        with self.lock:
            if self.runs == 0:
                self.saved = gc.get_threshold()
                gc.freeze()
                gc.set_threshold(max(YOUNG_PASS, self.saved[0]), *self.saved[1:])
            self.runs += 1

    def leave(self) -> None:
        with self.lock:
            self.runs -= 1
            if self.runs == 0:
                gc.set_threshold(*self.saved)
                gc.unfreeze()


_PAUSE = _Pause()


@contextmanager
def fewer_passes() -> Iterator[None]:
    """Run the block with the app's heap frozen and rarer young passes."""
    _PAUSE.enter()
    try:
        yield
    finally:
        _PAUSE.leave()
