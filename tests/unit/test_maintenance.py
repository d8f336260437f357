"""The in-process runner of periodic jobs (page_tracker.maintenance), without a server."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from page_tracker.features import PeriodicJob
from page_tracker.maintenance import FileLock, MaintenanceRunner

HOURLY = PeriodicJob("hourly", "t.hourly", timedelta(hours=1))
BROKEN = PeriodicJob("broken", "t.broken", timedelta(minutes=10))


def test_should_run_each_job_when_due_and_survive_a_failing_one(tmp_path: Path) -> None:
    ran: list[str] = []

    def run(job: PeriodicJob) -> None:
        ran.append(job.name)
        if job is BROKEN:
            raise RuntimeError("database down")

    runner = MaintenanceRunner([BROKEN, HOURLY], run, FileLock(tmp_path / "lock"))
    assert runner.run_due(1000.0) == ["broken", "hourly"]  # all due at the start
    assert runner.run_due(1000.0 + 60) == []
    assert runner.run_due(1000.0 + 601) == ["broken"]
    assert runner.run_due(1000.0 + 3601) == ["broken", "hourly"]
    assert ran == ["broken", "hourly", "broken", "broken", "hourly"]


def test_should_grant_the_lock_to_one_holder_until_released(tmp_path: Path) -> None:
    first, second = FileLock(tmp_path / "run" / "lock"), FileLock(tmp_path / "run" / "lock")
    assert first.try_acquire()
    assert first.try_acquire()  # held: stays held
    assert not second.try_acquire()
    first.release()
    assert second.try_acquire()
    second.release()
