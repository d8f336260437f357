"""Celery bound to the Flask app (Flask's "Background Tasks with Celery" pattern).

Tasks run inside ``app.app_context()``. Beat's schedule is built from the periodic jobs
the app factory passes in (each feature declares its own, see
:class:`~page_tracker.features.Feature`); this module imports no feature.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from celery import Celery, Task
from flask import Flask

from page_tracker.extensions import Extension
from page_tracker.features import PeriodicJob
from page_tracker.settings import Settings

CELERY: Extension[Celery] = Extension("celery", "the Celery app bound to this app")


def beat_schedule(jobs: Iterable[PeriodicJob]) -> dict[str, dict[str, Any]]:
    return {
        job.name: {"task": job.task, "schedule": job.every.total_seconds(), "kwargs": job.kwargs}
        for job in jobs
    }


def celery_init_app(app: Flask, settings: Settings, jobs: Iterable[PeriodicJob] = ()) -> Celery:
    """Create the Celery app for ``app``, with ``jobs`` as beat's schedule, and store it
    in ``app.extensions["celery"]``.

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
        beat_schedule=beat_schedule(jobs),
    )
    celery_app.set_default()
    CELERY.put(app, celery_app)
    return celery_app
