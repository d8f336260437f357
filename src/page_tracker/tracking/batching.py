"""Group commit: many request threads, one writer, one write per batch.

A hit is acknowledged only once it is durable, and a durable write (a Redis round trip,
a database commit) costs far more than the hit itself. :class:`GroupCommitter` lets each
request thread hand its item over and wait; a single writer thread takes everything
that queued up while its previous write was running and writes it with **one** call of
``write(items)``. Under light load a batch is one item (no added latency); under heavy
load batches grow by themselves, so the cost per item falls as the load rises. This is
the group commit of database logs, applied to page-view ingestion.

``submit()`` returns only after ``write`` returned for the batch holding the item, and
raises what ``write`` raised: an item is never acknowledged before it is durable.

The writer thread starts on the first ``submit()`` of each process, so an instance made
before a server forks its workers works in every worker.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


class BatchTimeout(TimeoutError):
    """The batch holding the item was not written within the submit timeout.

    The item may still be written later; it was not acknowledged.
    """


class CommitterClosed(RuntimeError):
    """``submit()`` after :meth:`GroupCommitter.close`."""


class _Batch(Generic[T]):
    __slots__ = ("done", "error", "items")

    def __init__(self) -> None:
        self.items: list[T] = []
        self.done = threading.Event()
        self.error: BaseException | None = None


class GroupCommitter(Generic[T]):
    """Batch items from many threads into single calls of ``write``.

    ``max_batch`` caps the items per write (further items go into the next batch).
    ``linger`` is how long (seconds) the writer waits for more items after the first
    one of a batch arrived; ``0`` writes at once and relies on natural batching.
    """

    def __init__(
        self,
        write: Callable[[Sequence[T]], None],
        *,
        max_batch: int = 512,
        linger: float = 0.0,
        name: str = "group-commit",
    ) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        if linger < 0:
            raise ValueError("linger must not be negative")
        self._write = write
        self.max_batch = max_batch
        self.linger = linger
        self.name = name
        self.batches_written = 0
        self.items_written = 0
        self._closed = False
        self._reset()
        _track_forks(self)

    def _reset(self) -> None:
        """Fresh queue and no writer (at creation, and in a forked child)."""
        self._cond = threading.Condition(threading.Lock())
        self._batches: deque[_Batch[T]] = deque()
        self._thread: threading.Thread | None = None

    def submit(self, item: T, timeout: float | None = 30.0) -> None:
        """Queue ``item``, wait until its batch was written; raise the writer's error.

        Raises :class:`BatchTimeout` when the batch is not written within ``timeout``
        and :class:`CommitterClosed` after :meth:`close`.
        """
        with self._cond:
            if self._closed:
                raise CommitterClosed(f"{self.name} is closed")
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._thread.start()
            batches = self._batches
            if not batches or len(batches[-1].items) >= self.max_batch:
                batches.append(_Batch())
            batch = batches[-1]
            batch.items.append(item)
            self._cond.notify()
        if not batch.done.wait(timeout):
            raise BatchTimeout(f"{self.name}: batch not written within {timeout} s")
        if batch.error is not None:
            raise batch.error

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued, stop the writer thread, refuse further items."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    # -- writer side ------------------------------------------------------------------

    def _next_batch(self) -> _Batch[T] | None:
        """Wait for a batch and take it; ``None`` once closed and drained."""
        with self._cond:
            batches = self._batches
            while not batches:
                if self._closed:
                    return None
                self._cond.wait()
            if self.linger and len(batches) == 1:
                deadline = time.monotonic() + self.linger
                while len(batches[0].items) < self.max_batch and not self._closed:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    self._cond.wait(remaining)
            return batches.popleft()

    def _run(self) -> None:
        while (batch := self._next_batch()) is not None:
            try:
                self._write(batch.items)
            except BaseException as error:  # handed to every waiter; the writer goes on
                log.warning("%s: write of %d items failed: %s", self.name, len(batch.items), error)
                batch.error = error
            else:
                self.batches_written += 1
                self.items_written += len(batch.items)
            finally:
                batch.done.set()


_committers: weakref.WeakSet[GroupCommitter[Any]] = weakref.WeakSet()
_fork_hook_registered = False


def _after_fork_in_child() -> None:
    # The child has no writer thread (only the forking thread survives a fork) and must
    # not wait for batches that belong to the parent.
    for committer in list(_committers):
        committer._reset()


def _track_forks(committer: GroupCommitter[Any]) -> None:
    global _fork_hook_registered  # noqa: PLW0603 - one hook per process, registered lazily
    _committers.add(committer)
    if not _fork_hook_registered and hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_after_fork_in_child)
        _fork_hook_registered = True
