"""Where an import job runs: a Celery worker in Redis mode (a thin task around
:func:`~page_tracker.imports.jobs.run_job`), a thread of the web process in embedded
mode (there is no worker, and the upload must not be imported inside the request).

A task delivered again while the first worker still holds the job's lease (the broker
lost sight of a live worker) retries once that lease could have run out."""

from __future__ import annotations

import logging
import threading
from typing import Any

from celery import shared_task
from flask import Flask, current_app

from page_tracker.db import DATABASE
from page_tracker.extensions import Extension
from page_tracker.imports.jobs import JobHeld, run_job
from page_tracker.settings import SETTINGS

log = logging.getLogger(__name__)

RUN_IMPORT = "page_tracker.imports.run"
THREADS: Extension[set[threading.Thread]] = Extension(
    "page_tracker.imports.threads", "embedded mode's import threads still running"
)


def run_in_app(app: Flask, job_id: int) -> None:
    """Run a job with the app's database and upload folder."""
    factory = DATABASE.get(app).sessions.session_factory
    with app.app_context():
        settings = SETTINGS.get(app)
        run_job(factory, job_id, settings.import_dir, settings.import_lease_seconds)


@shared_task(name=RUN_IMPORT, bind=True, max_retries=None)  # type: ignore[untyped-decorator]
def run_import(self: Any, job_id: int) -> None:  # celery is untyped
    try:
        run_in_app(current_app, job_id)
    except JobHeld as held:
        raise self.retry(countdown=held.retry_in) from None


def start(app: Flask, job_id: int) -> None:
    """Have the job run: queued for a worker when there is a broker, else in a thread."""
    if SETTINGS.get(app).broker_url is not None:
        run_import.delay(job_id)
        return
    running = THREADS.get(app)

    def run() -> None:
        try:
            run_in_app(app, job_id)
        except JobHeld:  # another thread runs it: it ends there
            log.warning("import %d is running in another thread already", job_id)
        finally:
            running.discard(threading.current_thread())

    thread = threading.Thread(target=run, name=f"import-{job_id}", daemon=True)
    running.add(thread)
    thread.start()


def wait(app: Flask, timeout: float | None = None) -> bool:
    """Wait for embedded mode's import threads (closing the app; tests); ``False`` when
    one is still running after ``timeout`` seconds."""
    for thread in list(THREADS.find(app) or ()):
        thread.join(timeout)
        if thread.is_alive():
            return False
    return True
