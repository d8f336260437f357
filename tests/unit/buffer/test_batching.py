"""Group commit (tracking.batching): every item written exactly once, waiters answered
only after their batch was written, the writer's error handed to each of them."""

from __future__ import annotations

import multiprocessing
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence

import pytest

from page_tracker.buffer.batching import (
    BatchTimeout,
    CommitterClosed,
    GroupCommitter,
    ItemRefused,
)

pytestmark = pytest.mark.timeout(30)


class GatedWriter:
    """Records each write; the first ``gated`` writes wait until :meth:`open` is called."""

    def __init__(self, gated: int = 0, fail_on: Callable[[Sequence[int]], bool] | None = None):
        self.batches: list[list[int]] = []
        self.started = threading.Semaphore(0)
        self.gate = threading.Event()
        self.gated = gated
        self.fail_on = fail_on

    def __call__(self, items: Sequence[int]) -> None:
        number = len(self.batches)
        self.batches.append(list(items))
        self.started.release()
        if number < self.gated:
            assert self.gate.wait(10)
        if self.fail_on and self.fail_on(items):
            raise ConnectionError("store down")

    @property
    def items(self) -> list[int]:
        return [item for batch in self.batches for item in batch]


def submit_in_threads(
    committer: GroupCommitter[int], items: Sequence[int]
) -> tuple[list[threading.Thread], dict[int, BaseException | None]]:
    outcome: dict[int, BaseException | None] = {}

    def one(item: int) -> None:
        try:
            committer.submit(item, timeout=10)
        except Exception as error:
            outcome[item] = error
        else:
            outcome[item] = None

    threads = [threading.Thread(target=one, args=(item,)) for item in items]
    for thread in threads:
        thread.start()
    return threads, outcome


def queued(committer: GroupCommitter[int]) -> int:
    return sum(len(batch.items) for batch in committer._batches)


def wait_until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.001)


@pytest.fixture
def closing() -> Iterator[list[GroupCommitter[int]]]:
    made: list[GroupCommitter[int]] = []
    yield made
    for committer in made:
        committer.close()


def test_should_write_a_single_item_at_once_and_return_after_the_write(
    closing: list[GroupCommitter[int]],
) -> None:
    writer = GatedWriter()
    committer = GroupCommitter(writer)
    closing.append(committer)

    committer.submit(7)

    assert writer.batches == [[7]]
    assert (committer.batches_written, committer.items_written) == (1, 1)


@pytest.fixture
def frequent_thread_switches() -> Iterator[None]:
    """Threads switch every microsecond instead of every 5 ms: interleavings that a
    loaded machine produces now and then happen in every run."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


@pytest.mark.usefixtures("frequent_thread_switches")
def test_should_write_what_queued_during_a_write_as_one_batch(
    closing: list[GroupCommitter[int]],
) -> None:
    # Given a write in progress (held at the gate)
    writer = GatedWriter(gated=1)
    committer = GroupCommitter(writer, max_batch=100)
    closing.append(committer)
    first, first_outcome = submit_in_threads(committer, [0])
    assert writer.started.acquire(timeout=10)
    # When 50 more items arrive meanwhile
    threads, outcome = submit_in_threads(committer, range(1, 51))
    wait_until(lambda: queued(committer) == 50)
    assert outcome == {}  # nobody was answered yet
    writer.gate.set()
    for thread in [*first, *threads]:
        thread.join(10)
    # Then they were written together, each exactly once, and every caller was answered.
    # In which order the 50 threads queued is the scheduler's choice: the committer keeps
    # the order of its submit() calls, it never promised the order in which threads
    # start (once the batch came back ...13, 15, 14...).
    assert len(writer.batches) == 2
    assert writer.batches[0] == [0]
    assert sorted(writer.batches[1]) == list(range(1, 51))
    assert first_outcome == {0: None}
    assert outcome == dict.fromkeys(range(1, 51))


def test_should_split_batches_at_max_batch(closing: list[GroupCommitter[int]]) -> None:
    writer = GatedWriter(gated=1)
    committer = GroupCommitter(writer, max_batch=8)
    closing.append(committer)
    first, _ = submit_in_threads(committer, [0])
    assert writer.started.acquire(timeout=10)
    threads, outcome = submit_in_threads(committer, range(1, 21))
    wait_until(lambda: queued(committer) == 20)
    writer.gate.set()
    for thread in [*first, *threads]:
        thread.join(10)

    assert [len(batch) for batch in writer.batches] == [1, 8, 8, 4]
    assert sorted(writer.items) == list(range(21))
    assert all(error is None for error in outcome.values())


def test_should_raise_the_write_error_in_every_waiter_of_that_batch_and_go_on(
    closing: list[GroupCommitter[int]],
) -> None:
    writer = GatedWriter(gated=1, fail_on=lambda items: 13 in items)
    committer = GroupCommitter(writer)
    closing.append(committer)
    first, first_outcome = submit_in_threads(committer, [0])
    assert writer.started.acquire(timeout=10)
    threads, outcome = submit_in_threads(committer, [11, 12, 13])
    wait_until(lambda: queued(committer) == 3)
    writer.gate.set()
    for thread in [*first, *threads]:
        thread.join(10)

    assert first_outcome == {0: None}
    assert sorted(outcome) == [11, 12, 13]
    assert all(isinstance(error, ConnectionError) for error in outcome.values())
    # the writer survived the failure
    committer.submit(14)
    assert writer.batches[-1] == [14]
    assert committer.items_written == 2


class Poison(ValueError):
    """What the store says about an item it never takes."""


def poison_writer(bad: set[int]) -> GatedWriter:
    writer = GatedWriter(gated=1)

    def write(items: Sequence[int]) -> None:
        GatedWriter.__call__(writer, items)
        if bad & set(items):
            raise Poison(f"cannot store {sorted(bad & set(items))}")

    writer.write = write  # type: ignore[attr-defined]
    return writer


@pytest.mark.parametrize("bad", [{7}, {1, 20}, set(range(1, 21))])
def test_should_write_every_good_item_of_a_batch_with_poison_and_refuse_only_the_bad(
    closing: list[GroupCommitter[int]], bad: set[int]
) -> None:
    # Given a batch of 20 items, some of which the store refuses for their own data
    writer = poison_writer(bad)
    committer = GroupCommitter(
        writer.write,  # type: ignore[attr-defined]
        split_on=lambda error: isinstance(error, Poison),
    )
    closing.append(committer)
    first, _ = submit_in_threads(committer, [0])
    assert writer.started.acquire(timeout=10)
    threads, outcome = submit_in_threads(committer, range(1, 21))
    wait_until(lambda: queued(committer) == 20)
    # When the batch is written
    writer.gate.set()
    for thread in [*first, *threads]:
        thread.join(10)
    # Then each good item was written once, each bad one refused with the store's error
    written = [item for batch in writer.batches if not bad & set(batch) for item in batch]
    assert sorted(written) == sorted(set(range(21)) - bad)
    assert {item for item, error in outcome.items() if error is None} == set(range(1, 21)) - bad
    for item in bad:
        assert isinstance(outcome[item], ItemRefused)
        assert isinstance(outcome[item].__cause__, Poison)
    assert committer.items_written == 21 - len(bad)


def test_should_not_split_a_batch_when_the_store_is_down(
    closing: list[GroupCommitter[int]],
) -> None:
    # Given a store that is down (not poison)
    writer = GatedWriter(gated=1, fail_on=lambda items: 0 not in items)
    committer = GroupCommitter(writer, split_on=lambda error: isinstance(error, Poison))
    closing.append(committer)
    first, _ = submit_in_threads(committer, [0])
    assert writer.started.acquire(timeout=10)
    threads, outcome = submit_in_threads(committer, range(1, 9))
    wait_until(lambda: queued(committer) == 8)
    writer.gate.set()
    for thread in [*first, *threads]:
        thread.join(10)
    # Then the batch was tried once, every waiter got the store's error
    assert len(writer.batches) == 2
    assert all(isinstance(error, ConnectionError) for error in outcome.values())


def test_should_withdraw_a_queued_item_on_timeout_and_never_write_it(
    closing: list[GroupCommitter[int]],
) -> None:
    # Given a writer stuck in the write of item 1
    writer = GatedWriter(gated=1)
    committer = GroupCommitter(writer)
    closing.append(committer)
    threads, outcome = submit_in_threads(committer, [1])
    assert writer.started.acquire(timeout=10)
    # When item 2 waits in the queue longer than its timeout
    with pytest.raises(BatchTimeout):
        committer.submit(2, timeout=0.05)
    # Then it is withdrawn: once the writer goes on, only item 1 is written
    writer.gate.set()
    for thread in threads:
        thread.join(10)
    committer.submit(3)
    assert outcome == {1: None}
    assert writer.items == [1, 3]


def test_should_wait_for_the_outcome_of_a_write_in_flight_past_the_timeout(
    closing: list[GroupCommitter[int]],
) -> None:
    # Given a write in flight that outlasts the caller's timeout
    writer = GatedWriter(gated=1)
    committer = GroupCommitter(writer)
    closing.append(committer)
    outcome: list[BaseException | None] = []

    def submit() -> None:
        try:
            committer.submit(1, timeout=0.05)
        except Exception as error:
            outcome.append(error)
        else:
            outcome.append(None)

    thread = threading.Thread(target=submit)
    thread.start()
    assert writer.started.acquire(timeout=10)
    time.sleep(0.1)  # past the timeout, the item is being written
    # When the write succeeds
    writer.gate.set()
    thread.join(10)
    # Then the caller is told it was written, as it was
    assert outcome == [None]
    assert writer.items == [1]


def test_should_gather_items_during_linger(closing: list[GroupCommitter[int]]) -> None:
    writer = GatedWriter()
    # A long linger ends early once the batch is full.
    committer = GroupCommitter(writer, max_batch=5, linger=30)
    closing.append(committer)

    threads, outcome = submit_in_threads(committer, range(5))
    for thread in threads:
        thread.join(10)

    assert len(writer.batches) == 1
    assert sorted(writer.items) == list(range(5))
    assert outcome == dict.fromkeys(range(5))


def test_should_write_the_queue_on_close_and_refuse_later_items() -> None:
    writer = GatedWriter(gated=1)
    committer = GroupCommitter(writer)
    first, _ = submit_in_threads(committer, [0])
    assert writer.started.acquire(timeout=10)
    threads, outcome = submit_in_threads(committer, [1, 2])
    wait_until(lambda: queued(committer) == 2)

    closer = threading.Thread(target=committer.close)
    closer.start()
    writer.gate.set()
    closer.join(10)
    for thread in [*first, *threads]:
        thread.join(10)

    assert sorted(writer.items) == [0, 1, 2]
    assert outcome == {1: None, 2: None}
    with pytest.raises(CommitterClosed):
        committer.submit(3)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_batch": 0}, "max_batch"),
        ({"linger": -1}, "linger"),
    ],
)
def test_should_refuse_invalid_options(options: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        GroupCommitter(GatedWriter(), **options)  # type: ignore[arg-type]


def _submit_in_child(committer: GroupCommitter[int], result: multiprocessing.SimpleQueue) -> None:  # type: ignore[type-arg]
    committer.submit(42, timeout=5)
    result.put(committer.items_written)


def test_should_start_a_writer_in_a_forked_child(closing: list[GroupCommitter[int]]) -> None:
    # Given a committer whose writer runs in the parent (as when a server forks workers)
    written: list[int] = []
    committer = GroupCommitter(written.extend)
    closing.append(committer)
    committer.submit(1)
    context = multiprocessing.get_context("fork")
    result = context.SimpleQueue()
    # When a forked child submits
    child = context.Process(target=_submit_in_child, args=(committer, result))
    child.start()
    child.join(10)
    # Then its own writer wrote it (the parent's thread does not exist in the child)
    assert child.exitcode == 0
    assert result.get() == 2
    assert written == [1]
    result.close()


def test_should_write_every_accepted_item_when_closed_under_load() -> None:
    # Given threads submitting as fast as they can
    writer = GatedWriter()
    committer = GroupCommitter(writer, max_batch=16)
    accepted: list[int] = []
    refused: list[int] = []
    other: list[BaseException] = []
    lock = threading.Lock()

    def submit_many(start: int) -> None:
        for item in range(start, start + 2_000):
            try:
                committer.submit(item, timeout=10)
            except CommitterClosed:
                with lock:
                    refused.append(item)
                return
            except BaseException as error:  # recorded, asserted below
                other.append(error)
                return
            with lock:
                accepted.append(item)

    threads = [threading.Thread(target=submit_many, args=(n * 10_000,)) for n in range(8)]
    for thread in threads:
        thread.start()
    wait_until(lambda: committer.items_written > 500)
    # When the committer is closed in the middle of it
    committer.close()
    for thread in threads:
        thread.join(30)
    # Then every acknowledged item was written, exactly once, and nobody timed out
    assert other == []
    assert sorted(writer.items) == sorted(accepted)
    assert not set(refused) & set(writer.items)


@pytest.mark.parametrize("bad", [set(), {3}, {0, 19}])
def test_should_give_each_item_of_submit_each_its_own_fate(
    closing: list[GroupCommitter[int]], bad: set[int]
) -> None:
    # Given a store that refuses some items for their own data, and batches of 8 at most
    writer = poison_writer(bad)
    writer.gate.set()
    committer = GroupCommitter(
        writer.write,  # type: ignore[attr-defined]
        max_batch=8,
        split_on=lambda error: isinstance(error, Poison),
    )
    closing.append(committer)
    # When one caller submits 20 items at once
    errors = committer.submit_each(list(range(20)))
    # Then every good item was written once, in batches of at most 8, and only the bad
    # ones were refused, each in its own place of the answer
    written = [item for batch in writer.batches if not bad & set(batch) for item in batch]
    assert sorted(written) == sorted(set(range(20)) - bad)
    assert max(len(batch) for batch in writer.batches) <= 8
    assert [n for n, error in enumerate(errors) if error is not None] == sorted(bad)
    assert all(isinstance(errors[n], ItemRefused) for n in bad)
    assert committer.submit_each([]) == []


def test_should_withdraw_the_items_of_submit_each_still_queued_at_the_timeout(
    closing: list[GroupCommitter[int]],
) -> None:
    # Given a writer stuck in the write of item 1
    writer = GatedWriter(gated=1)
    committer = GroupCommitter(writer)
    closing.append(committer)
    threads, outcome = submit_in_threads(committer, [1])
    assert writer.started.acquire(timeout=10)
    # When three items wait in the queue longer than their timeout
    errors = committer.submit_each([2, 3, 4], timeout=0.05)
    # Then each was withdrawn and never written
    assert all(isinstance(error, BatchTimeout) for error in errors)
    writer.gate.set()
    for thread in threads:
        thread.join(10)
    committer.submit(5)
    assert outcome == {1: None}
    assert writer.items == [1, 5]


def test_should_refuse_submit_each_after_close() -> None:
    committer: GroupCommitter[int] = GroupCommitter(GatedWriter())
    committer.close()
    with pytest.raises(CommitterClosed):
        committer.submit_each([1])


# -- leader and followers: no writer thread, each batch written by one of its callers --


def test_should_write_each_batch_in_a_thread_of_its_own_callers(
    closing: list[GroupCommitter[int]],
) -> None:
    # Given a leader held in its write and ten followers queued behind it
    writers: list[str] = []
    gate = threading.Event()
    started = threading.Semaphore(0)

    def write(items: Sequence[int]) -> None:
        writers.append(threading.current_thread().name)
        started.release()
        if len(writers) == 1:
            assert gate.wait(10)

    committer = GroupCommitter(write)
    closing.append(committer)
    before = threading.active_count()
    first, _ = submit_in_threads(committer, [0])
    assert started.acquire(timeout=10)
    threads, outcome = submit_in_threads(committer, range(1, 11))
    wait_until(lambda: queued(committer) == 10)
    # When the leader's write returns
    gate.set()
    for thread in [*first, *threads]:
        thread.join(10)
    # Then one of the followers wrote their batch, and no thread was left behind
    assert writers[0] == first[0].name
    assert writers[1] in {thread.name for thread in threads}
    assert len(writers) == 2
    assert outcome == dict.fromkeys(range(1, 11))
    assert threading.active_count() == before
    assert not committer._leading


def test_should_hand_over_the_lead_when_the_leaders_write_fails(
    closing: list[GroupCommitter[int]],
) -> None:
    # Given a leader whose write will fail (the store down for it), followers queued
    writer = GatedWriter(gated=1, fail_on=lambda items: 0 in items)
    committer = GroupCommitter(writer)
    closing.append(committer)
    first, first_outcome = submit_in_threads(committer, [0])
    assert writer.started.acquire(timeout=10)
    threads, outcome = submit_in_threads(committer, range(1, 6))
    wait_until(lambda: queued(committer) == 5)
    # When the write fails
    writer.gate.set()
    for thread in [*first, *threads]:
        thread.join(10)
    # Then the leader got the error, and the followers' batch was still written, once
    assert isinstance(first_outcome[0], ConnectionError)
    assert outcome == dict.fromkeys(range(1, 6))
    assert sorted(writer.batches[1]) == list(range(1, 6))
    assert committer.items_written == 5
    committer.submit(6)  # and a later caller leads again
    assert writer.batches[-1] == [6]


def test_should_not_withdraw_the_item_of_a_waiter_handed_the_lead(
    closing: list[GroupCommitter[int]],
) -> None:
    # Given a follower queued behind a write in flight
    writer = GatedWriter(gated=1)
    committer = GroupCommitter(writer)
    closing.append(committer)
    first, _ = submit_in_threads(committer, [0])
    assert writer.started.acquire(timeout=10)
    with committer._lock:
        batch, waiter = committer._enqueue(1)
    # When its timeout passes just after the lead was handed to it (not yet taken up)
    committer._heir = waiter
    assert not committer._withdraw(batch, waiter)
    # Then its item stays queued: it writes it itself
    committer._heir = None
    writer.gate.set()
    for thread in first:
        thread.join(10)
    assert committer._outcome(batch, waiter, 1.0) is None
    assert writer.items == [0, 1]


@pytest.mark.usefixtures("frequent_thread_switches")
@pytest.mark.parametrize("bad", [set(), {13, 1_007, 5_021}])
def test_should_write_every_acknowledged_item_exactly_once_under_many_threads(
    closing: list[GroupCommitter[int]], bad: set[int]
) -> None:
    # Given 64 threads submitting at once, short timeouts that some items miss, a store
    # that is slow now and then and refuses a few items for their data
    written: list[int] = []
    write_lock = threading.Lock()

    def write(items: Sequence[int]) -> None:
        if bad & set(items):
            raise Poison(f"cannot store {sorted(bad & set(items))}")
        if len(items) % 7 == 3:
            time.sleep(0.003)
        with write_lock:
            written.extend(items)

    committer = GroupCommitter(
        write, max_batch=16, split_on=lambda error: isinstance(error, Poison)
    )
    closing.append(committer)
    answers: dict[int, BaseException | None] = {}

    def submit_many(start: int) -> None:
        for item in range(start, start + 40):
            timeout = 0.002 if item % 5 == 0 else 10.0
            try:
                committer.submit(item, timeout=timeout)
            except Exception as error:
                answers[item] = error
            else:
                answers[item] = None

    threads = [threading.Thread(target=submit_many, args=(n * 1_000,)) for n in range(64)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    # Then every item was answered; acknowledged ones written exactly once, timed-out
    # ones never, refused ones never; only the bad ones refused
    assert len(answers) == 64 * 40
    assert len(written) == len(set(written))
    acknowledged = {item for item, error in answers.items() if error is None}
    timed_out = {item for item, error in answers.items() if isinstance(error, BatchTimeout)}
    refused = {item for item, error in answers.items() if isinstance(error, ItemRefused)}
    assert acknowledged | timed_out | refused == set(answers)
    assert set(written) == acknowledged
    assert refused <= bad
    assert all(item % 5 == 0 for item in timed_out)
    assert not committer._leading
    assert not committer._batches
