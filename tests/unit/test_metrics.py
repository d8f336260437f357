"""HitMetrics: per-thread counts add up exactly in a snapshot."""

from __future__ import annotations

import threading

from page_tracker.metrics import HitMetrics


def test_should_sum_the_counts_of_every_thread() -> None:
    metrics = HitMetrics()
    start = threading.Barrier(8)

    def count() -> None:
        start.wait()
        for n in range(5_000):
            metrics.count("accepted")
            if n % 10 == 0:
                metrics.count("bot", 2)

    threads = [threading.Thread(target=count) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert metrics.snapshot() == {"accepted": 40_000, "bot": 8 * 500 * 2}


def test_should_snapshot_while_threads_count() -> None:
    metrics = HitMetrics()
    stop = threading.Event()

    def count() -> None:
        while not stop.is_set():
            metrics.count("accepted")

    thread = threading.Thread(target=count)
    thread.start()
    try:
        seen = [metrics.snapshot().get("accepted", 0) for _ in range(200)]
    finally:
        stop.set()
        thread.join(10)
    assert seen == sorted(seen)  # never goes back
    assert metrics.snapshot()["accepted"] >= seen[-1]


def test_should_start_empty() -> None:
    assert HitMetrics().snapshot() == {}


def test_should_keep_the_counts_of_ended_threads_and_forget_the_threads() -> None:
    metrics = HitMetrics()

    def count() -> None:
        for _ in range(10):
            metrics.count("accepted")

    for _ in range(50):
        thread = threading.Thread(target=count)
        thread.start()
        thread.join(10)

    assert metrics.snapshot() == {"accepted": 500}
    assert len(metrics._live) == 0  # every ended thread's counts were folded in
