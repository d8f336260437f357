"""Where an import job runs: a Celery worker in Redis mode (a thin task around
:func:`~page_tracker.imports.jobs.run_job`), a thread of the web process in embedded
mode (there is no worker, and the upload must not be imported inside the request)."""

from __future__ import annotations

import threading

from celery import shared_task
from flask import Flask, current_app

from page_tracker.db import DATABASE
from page_tracker.extensions import Extension
from page_tracker.imports.jobs import run_job
from page_tracker.settings import SETTINGS

RUN_IMPORT = "page_tracker.imports.run"
THREADS: Extension[set[threading.Thread]] = Extension(
    "page_tracker.imports.threads", "embedded mode's import threads still running"
)


def run_in_app(app: Flask, job_id: int) -> None:
    """Run a job with the app's database and upload folder."""
    factory = DATABASE.get(app).sessions.session_factory
    with app.app_context():
        run_job(factory, job_id, SETTINGS.get(app).import_dir)


@shared_task(name=RUN_IMPORT)  # type: ignore[untyped-decorator]  # celery is untyped
def run_import(job_id: int) -> None:
    run_in_app(current_app, job_id)


def start(app: Flask, job_id: int) -> None:
    """Have the job run: queued for a worker when there is a broker, else in a thread."""
    if SETTINGS.get(app).broker_url is not None:
        run_import.delay(job_id)
        return
    running = THREADS.get(app)

    def run() -> None:
        try:
            run_in_app(app, job_id)
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
