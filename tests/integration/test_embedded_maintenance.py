"""Embedded mode runs the periodic jobs in the web process (page_tracker.maintenance):
started by the first request, one runner at a time across the processes of a host."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from page_tracker import maintenance
from page_tracker.app import close_app, periodic_jobs
from page_tracker.db import get_session
from page_tracker.ingest.models import Salt
from page_tracker.sites.services import create_site
from page_tracker.stats import rollup
from page_tracker.stats.models import DailyVisitor, Hit
from page_tracker.stats.pageview import PageView

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def wait_for(condition: Callable[[], bool], seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def seed_past_data(app: Flask) -> None:
    """A salt of three days ago, raw hits past a 1-day retention, a past day's visitors."""
    now = datetime.now(UTC)
    with app.app_context():
        session = get_session()
        site = create_site(session, "old.example", retention_days=1)
        session.add(Salt(day=(now - timedelta(days=3)).date(), salt=bytes(32)))
        views = [
            PageView(
                site.id,
                "/",
                "old.example",
                now - timedelta(days=5),
                bytes(16),
                bytes(16),
                keep_raw=True,
            )
        ]
        rollup.apply(session, views)
        session.commit()


def counts(app: Flask) -> tuple[int, int, int]:
    """Past salts, raw hits, visitor-set rows."""
    with app.app_context():
        session = get_session()
        today = datetime.now(UTC).date()
        salts = session.scalar(select(func.count()).select_from(Salt).where(Salt.day < today))
        hits = session.scalar(select(func.count()).select_from(Hit))
        visitors = session.scalar(select(func.count()).select_from(DailyVisitor))
        session.rollback()
        return int(salts or 0), int(hits or 0), int(visitors or 0)


def test_should_run_the_purges_and_salt_rotation_from_the_first_request(
    make_app: Callable[..., Flask], clean_database: str, tmp_path: Path
) -> None:
    # Given an embedded app with past salts, expired raw hits and past visitor sets
    app = make_app(DATABASE_URL=clean_database, MAINTENANCE_LOCK=str(tmp_path / "jobs.lock"))
    assert maintenance.install(app, periodic_jobs(), tick=0.05)
    seed_past_data(app)
    runner = maintenance.MAINTENANCE.get(app)
    # Then nothing runs before a request (no thread at build time)
    time.sleep(0.2)
    assert not runner.started
    assert counts(app) == (1, 1, 2)
    # When the first request is served
    assert app.test_client().get("/healthz").status_code == 200
    # Then the jobs run in the process: past salts, expired hits and visitor sets go
    assert wait_for(lambda: counts(app) == (0, 0, 0))


def test_should_run_the_jobs_in_one_process_at_a_time(
    make_app: Callable[..., Flask], clean_database: str, tmp_path: Path
) -> None:
    # Given two worker processes' apps sharing one lock file
    lock = str(tmp_path / "jobs.lock")
    first = make_app(DATABASE_URL=clean_database, MAINTENANCE_LOCK=lock)
    second = make_app(DATABASE_URL=clean_database, MAINTENANCE_LOCK=lock)
    ran: dict[str, list[str]] = {"first": [], "second": []}
    for name, app in (("first", first), ("second", second)):
        assert maintenance.install(app, periodic_jobs(), tick=0.05)
        runner = maintenance.MAINTENANCE.get(app)
        runner.run_job = lambda job, name=name: ran[name].append(job.name)  # type: ignore[misc]
    # When both serve requests
    first.test_client().get("/healthz")
    assert wait_for(lambda: bool(ran["first"]))
    second.test_client().get("/healthz")
    time.sleep(0.3)
    # Then only the lock holder runs jobs
    assert ran["second"] == []
    assert maintenance.MAINTENANCE.get(first).lock.held
    # And when the holder goes away, the other takes over
    close_app(first)
    assert wait_for(lambda: bool(ran["second"]))


def test_should_leave_the_jobs_to_beat_when_there_is_a_broker(
    make_app: Callable[..., Flask], clean_database: str, redis_url: str
) -> None:
    app = make_app(DATABASE_URL=clean_database, CELERY_BROKER_URL=redis_url)
    assert not maintenance.install(app, periodic_jobs())
    off = make_app(DATABASE_URL=clean_database, EMBEDDED_JOBS="false")
    assert not maintenance.install(off, periodic_jobs())
