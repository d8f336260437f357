"""Celery bound to the Flask app (Flask's "Background Tasks with Celery" pattern).

Tasks run inside ``app.app_context()``. Features declare their periodic jobs as
:class:`PeriodicJob` entries in :data:`PERIODIC_JOB_PROVIDERS`; beat's schedule is built
from them, so the feature that owns a job also owns its schedule.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from celery import Celery, Task
from flask import Flask

from page_tracker.settings import Settings

EXTENSION_KEY = "celery"

# "module:attribute" of functions returning the feature's periodic jobs. Imported lazily
# when the schedule is built, never at import time of this module.
PERIODIC_JOB_PROVIDERS: tuple[str, ...] = (
    "page_tracker.ingest.tasks:periodic_jobs",
    "page_tracker.stats.tasks:periodic_jobs",
    "page_tracker.buffer.tasks:periodic_jobs",
)


@dataclass(frozen=True)
class PeriodicJob:
    """A task beat runs every ``every``; ``task`` is the registered task name."""

    name: str
    task: str
    every: timedelta
    kwargs: dict[str, Any] = field(default_factory=dict)


def periodic_jobs(providers: tuple[str, ...] = PERIODIC_JOB_PROVIDERS) -> list[PeriodicJob]:
    jobs: list[PeriodicJob] = []
    for provider in providers:
        module_name, attribute = provider.split(":")
        factory: Callable[[], list[PeriodicJob]] = getattr(
            importlib.import_module(module_name), attribute
        )
        jobs.extend(factory())
    return jobs


def beat_schedule(jobs: list[PeriodicJob]) -> dict[str, dict[str, Any]]:
    return {
        job.name: {"task": job.task, "schedule": job.every.total_seconds(), "kwargs": job.kwargs}
        for job in jobs
    }


def celery_init_app(app: Flask, settings: Settings) -> Celery:
    """Create the Celery app for ``app`` and store it in ``app.extensions["celery"]``.

    Without a broker (embedded mode) tasks run eagerly in-process, so code that
    schedules a task works the same in both modes.
    """

    class FlaskTask(Task):  # type: ignore[misc]  # celery is untyped
        def __call__(self, *args: object, **kwargs: object) -> object:
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    broker = settings.broker_url
    celery_app.conf.update(
        broker_url=broker or "memory://",
        result_backend=None,
        task_ignore_result=True,
        task_always_eager=broker is None,
        task_acks_late=True,  # a task killed mid-run is redelivered: tasks are idempotent
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,  # keep the YAML logging configuration
        broker_connection_retry_on_startup=True,
        timezone="UTC",
        beat_schedule=beat_schedule(periodic_jobs()),
    )
    celery_app.set_default()
    app.extensions[EXTENSION_KEY] = celery_app
    return celery_app
