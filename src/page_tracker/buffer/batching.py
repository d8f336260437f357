"""Group commit: many request threads, one write per batch, no writer thread.

A hit is acknowledged only once it is durable, and a durable write (a Redis round trip,
a database commit) costs far more than the hit itself. :class:`GroupCommitter` lets each
request thread queue its item and wait; everything that queued up while the previous
write was running is written with **one** call of ``write(items)``. Under light load a
batch is one item (no added latency); under heavy load batches grow by themselves, so
the cost per item falls as the load rises. This is the group commit of database logs,
applied to page-view ingestion.

Leader and followers: there is no writer thread. A caller that finds no write in
progress becomes the *leader* and writes the first queued batch (its own item in it)
itself; callers arriving meanwhile queue their items and wait (*followers*). When the
leader's write returns and items queued meanwhile, it hands the lead to the first
waiter of the next batch (waking it to write the batch its own item is in), then wakes
its own batch's waiters; with nothing queued it steps down. So every batch is written by
one of its own callers, no thread is woken only to pass work on, and no writer waits on
request threads (or they on it) beyond their own batch.

``submit()`` returns only after ``write`` returned for the batch holding the item, and
raises what ``write`` raised: an item is never acknowledged before it is durable. Nor is
an item written that was refused: a caller whose timeout passes while its batch still
waits in the queue withdraws its item; once a leader holds the batch (or the caller was
handed the lead of it), the caller waits for that write's outcome (bounded by the
stores' own timeouts).

One bad item never costs the others: when ``write`` fails with an error that
``split_on`` says is about the items (poison: the same items fail again, other items
would not), the batch is bisected and its halves written apart, down to single items;
every good item is written and only the bad one raises :class:`ItemRefused`. Any other
error (the store is down) fails the whole batch at once, without splitting.

Fork safety: a forked child (a server's worker) starts with an empty queue and no
leader, so an instance made before a server forks its workers works in every worker.
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
    """The item's batch was not taken by a leader within the submit timeout; the item
    was withdrawn and will never be written (so not storing it and saying so agree)."""


class ItemRefused(Exception):
    """The store refused this item itself (poison, see ``split_on``); the other items
    of its batch were written. Its ``__cause__`` is the store's error."""


class CommitterClosed(RuntimeError):
    """``submit()`` after :meth:`GroupCommitter.close`."""


class _Batch(Generic[T]):
    """Items written together, and one held lock per waiting caller.

    A caller blocks on its own lock (``acquire`` in C, GIL released); the leader
    releases the locks after the write (and one of them, before, to hand over the
    lead). A shared ``threading.Event`` would make every woken caller re-take one
    Python-level condition lock in turn: measured under load (py-spy ``--gil``), that
    convoy held the GIL a fifth of the time.
    """

    __slots__ = ("done", "error", "items", "refused", "taken", "waiters")

    def __init__(self) -> None:
        self.items: list[T] = []
        self.waiters: list[threading.Lock] = []
        self.taken = False  # a leader took it out of the queue: no item can withdraw
        self.done = False  # written (or failed): the outcome below is final
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
    ``linger`` is how long (seconds) a leader waits for more items before it takes a
    batch that is not full; ``0`` writes at once and relies on natural batching.
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
        """Fresh queue and no leader (at creation, and in a forked child)."""
        self._lock = threading.Lock()
        self._batches: deque[_Batch[T]] = deque()
        # True from the moment a caller becomes leader until the last leader of a run
        # finds the queue empty (a lead handed over but not yet taken up included).
        self._leading = False
        self._heir: threading.Lock | None = None  # the waiter handed the lead, not yet up
        # A lingering leader sleeps on this (C-level blocking): one token when the first
        # batch fills up, ``_STOP`` from close().
        self._full: queue.SimpleQueue[object] = queue.SimpleQueue()

    def submit(self, item: T, timeout: float | None = 30.0) -> None:
        """Queue ``item``, wait until its batch was written; raise the write's error.

        Raises :class:`BatchTimeout` when no leader took the batch within ``timeout``
        and :class:`CommitterClosed` after :meth:`close`.
        """
        with self._lock:
            batch, waiter = self._enqueue(item)
            lead = not self._leading
            self._leading = True
        if lead:
            self._lead()
        error = self._outcome(batch, waiter, timeout)
        if error is not None:
            raise error

    def submit_each(
        self, items: Sequence[T], timeout: float | None = 30.0
    ) -> list[BaseException | None]:
        """Queue every item of ``items`` as an item of its own and wait for them all: the
        error of each (``None``: written), in order. Each item has its own fate, as if
        submitted by a thread of its own: a refused one costs no other, and a timeout
        withdraws only the items whose batch no leader has taken.

        Raises :class:`CommitterClosed` after :meth:`close` (nothing queued then).
        """
        with self._lock:
            queued = [self._enqueue(item) for item in items]
            lead = bool(queued) and not self._leading
            self._leading = self._leading or lead
        if lead:
            self._lead()
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
        batches = self._batches
        if not batches or len(batches[-1].items) >= self.max_batch:
            batches.append(_Batch())
        batch = batches[-1]
        batch.items.append(item)
        batch.waiters.append(waiter)
        if self.linger and len(batches[0].items) == self.max_batch:
            self._full.put(None)
        return batch, waiter

    def _outcome(
        self, batch: _Batch[T], waiter: threading.Lock, timeout: float | None
    ) -> BaseException | None:
        """Wait for ``waiter``'s item (leading its batch's write when handed the lead);
        its error, or :class:`BatchTimeout` when it was withdrawn unwritten after
        ``timeout``."""
        if not waiter.acquire(timeout=-1 if timeout is None else timeout):
            if self._withdraw(batch, waiter):
                return BatchTimeout(f"{self.name}: not written within {timeout} s (withdrawn)")
            waiter.acquire()  # taken, or handed the lead: answer what that write did
        if not batch.done:  # woken to lead: the first queued batch is this item's
            self._lead()
        return batch.error_for(waiter)

    def _withdraw(self, batch: _Batch[T], waiter: threading.Lock) -> bool:
        """Take ``waiter``'s item back out of ``batch`` if no leader has taken the batch
        (and the lead was not handed to this waiter); ``False`` otherwise (the item's
        fate is that write's)."""
        with self._lock:
            if batch.taken or self._heir is waiter:
                return False
            index = next(n for n, mine in enumerate(batch.waiters) if mine is waiter)
            del batch.items[index], batch.waiters[index]
            if not batch.items:
                self._batches.remove(batch)
            return True

    def close(self, timeout: float = 10.0) -> None:
        """Refuse further items; wait (up to ``timeout``) until the queued ones were
        written. Their callers' leaders write them: nothing accepted is dropped."""
        with self._lock:
            self._closed = True
        self._full.put(_STOP)
        deadline = time.monotonic() + timeout
        while self._leading and time.monotonic() < deadline:
            time.sleep(0.001)

    # -- leader side ------------------------------------------------------------------

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

    def _lead(self) -> None:
        """Write the first queued batch (the caller's own item is in it), then hand the
        lead to the first waiter of the next batch, or step down when none is queued."""
        if self.linger:
            self._linger()
        with self._lock:
            self._heir = None
            batch = self._batches.popleft()
            batch.taken = True
        try:
            self._write_batch(batch)
        finally:
            heir: threading.Lock | None = None
            with self._lock:
                if self._batches:
                    heir = self._heir = self._batches[0].waiters[0]
                else:
                    self._leading = False
            batch.done = True
            if heir is not None:  # first: the next write starts while this batch wakes
                heir.release()
            batch.release()

    def _write_batch(self, batch: _Batch[T]) -> None:
        try:
            self._write(batch.items)
        except BaseException as error:  # handed to the waiters; the next leader goes on
            log.warning("%s: write of %d items failed: %s", self.name, len(batch.items), error)
            if self.split_on is not None and self.split_on(error):
                self._isolate(batch, 0, len(batch.items), error)
            else:
                batch.error = error
        else:
            self.batches_written += 1
            self.items_written += len(batch.items)

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
    # The child has none of the parent's request threads (only the forking one survives) and must
    # not wait for batches that belong to the parent.
    for committer in list(_committers):
        committer._reset()


def _track_forks(committer: GroupCommitter[Any]) -> None:
    global _fork_hook_registered  # noqa: PLW0603 - one hook per process, registered lazily
    _committers.add(committer)
    if not _fork_hook_registered and hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_after_fork_in_child)
        _fork_hook_registered = True
