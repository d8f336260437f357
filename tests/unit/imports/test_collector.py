"""The collector's pause during imports: rarer young passes and a frozen heap while a
run is inside it, the process's own settings back after the last run leaves."""

from __future__ import annotations

import gc
import threading

import pytest

from page_tracker.imports.collector import YOUNG_PASS, fewer_passes


def test_should_freeze_the_heap_and_space_young_passes_inside_and_restore_them_after() -> None:
    before = gc.get_threshold()
    frozen_before = gc.get_freeze_count()
    alive = [object() for _ in range(10)]  # containers made before the pause

    with fewer_passes():
        assert gc.get_threshold() == (YOUNG_PASS, *before[1:])
        assert gc.get_freeze_count() > frozen_before
        assert gc.isenabled()  # cyclic garbage is still freed, only later

    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == frozen_before
    assert alive


def test_should_end_the_pause_with_the_last_of_overlapping_runs() -> None:
    before = gc.get_threshold()
    inner_entered, outer_may_leave = threading.Event(), threading.Event()

    def other_run() -> None:
        with fewer_passes():
            inner_entered.set()
            outer_may_leave.wait(5)

    with fewer_passes():
        worker = threading.Thread(target=other_run)
        worker.start()
        assert inner_entered.wait(5)
    assert gc.get_threshold() == (YOUNG_PASS, *before[1:])  # the other run is still inside
    outer_may_leave.set()
    worker.join(5)

    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_should_restore_the_settings_when_the_run_raises() -> None:
    before = gc.get_threshold()

    with pytest.raises(RuntimeError, match="boom"), fewer_passes():
        raise RuntimeError("boom")

    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
