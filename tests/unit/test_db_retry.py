"""retry_transient: whole transactions run again after a lock conflict, nothing else."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from page_tracker.db import is_transient, retry_transient


def deadlock() -> OperationalError:
    """What PyMySQL raises through SQLAlchemy when InnoDB picks this transaction as the
    deadlock victim (error 1213)."""
    return OperationalError("INSERT ...", {}, Exception(1213, "Deadlock found"))


class Flaky:
    """Work that fails with ``errors`` first, then returns ``"done"``."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.runs = 0

    def __call__(self) -> str:
        self.runs += 1
        if self.errors:
            raise self.errors.pop(0)
        return "done"


def test_should_run_the_work_again_after_a_deadlock() -> None:
    work = Flaky(deadlock(), deadlock())

    assert retry_transient(work, jitter=0) == "done"
    assert work.runs == 3


def test_should_give_up_after_the_last_attempt() -> None:
    work = Flaky(*(deadlock() for _ in range(3)))

    with pytest.raises(OperationalError) as raised:
        retry_transient(work, attempts=3, jitter=0)
    assert is_transient(raised.value)
    assert work.runs == 3


def test_should_not_retry_an_error_that_is_no_lock_conflict() -> None:
    work = Flaky(IntegrityError("INSERT ...", {}, Exception(1062, "Duplicate entry")))

    with pytest.raises(IntegrityError):
        retry_transient(work, jitter=0)
    assert work.runs == 1


def test_should_refuse_zero_attempts() -> None:
    with pytest.raises(ValueError, match="attempts"):
        retry_transient(Flaky(), attempts=0)
