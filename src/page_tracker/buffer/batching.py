"""Group commit: many request threads, one writer, one write per batch.

A hit is acknowledged only once it is durable, and a durable write (a Redis round trip,
a database commit) costs far more than the hit itself. :class:`GroupCommitter` lets each
request thread hand its item over and wait; a single writer thread takes everything
that queued up while its previous write was running and writes it with **one** call of
``write(items)``. Under light load a batch is one item (no added latency); under heavy
load batches grow by themselves, so the cost per item falls as the load rises. This is
the group commit of database logs, applied to page-view ingestion.

``submit()`` returns only after ``write`` returned for the batch holding the item, and
raises what ``write`` raised: an item is never acknowledged before it is durable. Nor is
an item written that was refused: a caller whose timeout passes while its batch still
waits in the queue withdraws its item; once the writer holds the batch, the caller waits
for that write's outcome (bounded by the stores' own timeouts).

One bad item never costs the others: when ``write`` fails with an error that
``split_on`` says is about the items (poison: the same items fail again, other items
would not), the batch is bisected and its halves written apart, down to single items;
every good item is written and only the bad one raises :class:`ItemRefused`. Any other
error (the store is down) fails the whole batch at once, without splitting.

The writer thread starts on the first ``submit()`` of each process, so an instance made
before a server forks its workers works in every worker.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


class BatchTimeout(TimeoutError):
    """The item's batch was not taken by the writer within the submit timeout; the item
    was withdrawn and will never be written (so not storing it and saying so agree)."""


class ItemRefused(Exception):
    """The store refused this item itself (poison, see ``split_on``); the other items
    of its batch were written. Its ``__cause__`` is the store's error."""


class CommitterClosed(RuntimeError):
    """``submit()`` after :meth:`GroupCommitter.close`."""


class _Batch(Generic[T]):
    """Items written together, and one held lock per waiting caller.

    A caller blocks on its own lock (``acquire`` in C, GIL released); the writer
    releases the locks after the write. A shared ``threading.Event`` would make every
    woken caller re-take one Python-level condition lock in turn: measured under load
    (py-spy ``--gil``), that convoy held the GIL a fifth of the time.
    """

    __slots__ = ("error", "items", "refused", "waiters")

    def __init__(self) -> None:
        self.items: list[T] = []
        self.waiters: list[threading.Lock] = []
        self.error: BaseException | None = None  # the whole batch failed
        self.refused: dict[int, BaseException] = {}  # items that failed alone, by index

    def error_for(self, waiter: threading.Lock) -> BaseException | None:
        """The error of ``waiter``'s item. Found by the waiter, not by an index taken at
        submit: a withdrawn item (:meth:`GroupCommitter._withdraw`) shifts the others."""
        if not self.refused:
            return self.error
        return self.refused.get(self.waiters.index(waiter), self.error)

    def release(self) -> None:
        for waiter in self.waiters:
            waiter.release()


_STOP = object()


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
        split_on: Callable[[BaseException], bool] | None = None,
    ) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        if linger < 0:
            raise ValueError("linger must not be negative")
        self._write = write
        self.max_batch = max_batch
        self.linger = linger
        self.name = name
        self.split_on = split_on
        self.batches_written = 0
        self.items_written = 0
        self._closed = False
        self._reset()
        _track_forks(self)

    def _reset(self) -> None:
        """Fresh queue and no writer (at creation, and in a forked child)."""
        self._lock = threading.Lock()
        self._batches: deque[_Batch[T]] = deque()
        # The writer sleeps on these (C-level blocking, no Python condition):
        # ``_wake`` gets one token when work arrives for an idle writer, ``_full`` one
        # when a batch fills up during a linger.
        self._wake: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._full: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._writer_idle = True
        self._thread: threading.Thread | None = None

    def submit(self, item: T, timeout: float | None = 30.0) -> None:
        """Queue ``item``, wait until its batch was written; raise the writer's error.

        Raises :class:`BatchTimeout` when the batch is not written within ``timeout``
        and :class:`CommitterClosed` after :meth:`close`.
        """
        with self._lock:
            batch, waiter = self._enqueue(item)
        error = self._outcome(batch, waiter, timeout)
        if error is not None:
            raise error

    def submit_each(
        self, items: Sequence[T], timeout: float | None = 30.0
    ) -> list[BaseException | None]:
        """Queue every item of ``items`` as an item of its own and wait for them all: the
        error of each (``None``: written), in order. Each item has its own fate, as if
        submitted by a thread of its own: a refused one costs no other, and a timeout
        withdraws only the items whose batch the writer has not taken.

        Raises :class:`CommitterClosed` after :meth:`close` (nothing queued then).
        """
        with self._lock:
            queued = [self._enqueue(item) for item in items]
        if timeout is None:
            return [self._outcome(batch, waiter, None) for batch, waiter in queued]
        deadline = time.monotonic() + timeout
        return [
            self._outcome(batch, waiter, max(0.0, deadline - time.monotonic()))
            for batch, waiter in queued
        ]

    def _enqueue(self, item: T) -> tuple[_Batch[T], threading.Lock]:
        """Append ``item`` to the last open batch (caller holds ``_lock``); its waiter is
        held until the batch is written."""
        if self._closed:
            raise CommitterClosed(f"{self.name} is closed")
        waiter = threading.Lock()
        waiter.acquire()
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
            self._thread.start()
        batches = self._batches
        if not batches or len(batches[-1].items) >= self.max_batch:
            batches.append(_Batch())
        batch = batches[-1]
        batch.items.append(item)
        batch.waiters.append(waiter)
        if self._writer_idle:
            self._writer_idle = False
            self._wake.put(None)
        elif self.linger and len(batches[0].items) == self.max_batch:
            self._full.put(None)
        return batch, waiter

    def _outcome(
        self, batch: _Batch[T], waiter: threading.Lock, timeout: float | None
    ) -> BaseException | None:
        """Wait for ``waiter``'s item; its error, or :class:`BatchTimeout` when it was
        withdrawn unwritten after ``timeout``."""
        if not waiter.acquire(timeout=-1 if timeout is None else timeout):
            if self._withdraw(batch, waiter):
                return BatchTimeout(f"{self.name}: not written within {timeout} s (withdrawn)")
            waiter.acquire()  # being written: answer what that write did, not a guess
        return batch.error_for(waiter)

    def _withdraw(self, batch: _Batch[T], waiter: threading.Lock) -> bool:
        """Take ``waiter``'s item back out of ``batch`` if the writer has not taken the
        batch yet; ``False`` when it has (the item's fate is that write's)."""
        with self._lock:
            if not any(queued is batch for queued in self._batches):
                return False
            index = next(n for n, mine in enumerate(batch.waiters) if mine is waiter)
            del batch.items[index], batch.waiters[index]
            if not batch.items:
                self._batches.remove(batch)
            return True

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued, stop the writer thread, refuse further items."""
        with self._lock:
            self._closed = True
            thread = self._thread
        self._wake.put(_STOP)
        self._full.put(_STOP)
        if thread is not None:
            thread.join(timeout)

    # -- writer side ------------------------------------------------------------------

    def _linger(self) -> None:
        """Wait up to ``linger`` for the first batch to fill (a lone batch only: with
        more queued, the first is full already)."""
        deadline = time.monotonic() + self.linger
        while True:
            with self._lock:
                batches = self._batches
                if len(batches) != 1 or len(batches[0].items) >= self.max_batch:
                    return
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self._closed:
                return
            try:
                if self._full.get(timeout=remaining) is _STOP:
                    return
            except queue.Empty:
                return

    def _take(self) -> _Batch[T] | None:
        """The next batch, or ``None`` (and the writer marked idle) when none is queued."""
        with self._lock:
            if self._batches:
                return self._batches.popleft()
            self._writer_idle = True
            return None

    def _run(self) -> None:
        while True:
            token = self._wake.get()
            if self.linger and token is not _STOP:
                self._linger()
            while (batch := self._take()) is not None:
                self._write_batch(batch)
            # Only the stop token ends the loop: close() puts it after refusing new
            # items, so the drain above it has written every accepted one.
            if token is _STOP:
                return

    def _write_batch(self, batch: _Batch[T]) -> None:
        try:
            self._write(batch.items)
        except BaseException as error:  # handed to the waiters; the writer goes on
            log.warning("%s: write of %d items failed: %s", self.name, len(batch.items), error)
            if self.split_on is not None and self.split_on(error):
                self._isolate(batch, 0, len(batch.items), error)
            else:
                batch.error = error
        else:
            self.batches_written += 1
            self.items_written += len(batch.items)
        finally:
            batch.release()

    def _isolate(self, batch: _Batch[T], start: int, stop: int, error: BaseException) -> None:
        """Items ``start:stop`` failed together with the poison ``error``: write each half
        apart, recursing into a half that fails alike, down to the single bad items."""
        if stop - start == 1:
            refused = ItemRefused(f"{self.name}: the store refused the item: {error}")
            refused.__cause__ = error
            batch.refused[start] = refused
            return
        middle = (start + stop) // 2
        for low, high in ((start, middle), (middle, stop)):
            try:
                self._write(batch.items[low:high])
            except BaseException as half_error:
                if self.split_on is not None and self.split_on(half_error):
                    self._isolate(batch, low, high, half_error)
                else:
                    for index in range(low, high):
                        batch.refused[index] = half_error
            else:
                self.batches_written += 1
                self.items_written += high - low


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
