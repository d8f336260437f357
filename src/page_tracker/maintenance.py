"""The periodic jobs without Celery: embedded mode's serving process runs them itself.

With a broker, Celery beat schedules the features' :class:`~page_tracker.features.
PeriodicJob` s and workers run them. In embedded mode (no ``REDIS_URL`` or
``CELERY_BROKER_URL``) there is no beat, so salt rotation and the retention purges
would never run: :func:`install` makes the web process run them in a daemon thread.

- **Lazily**: the thread starts on the first request a worker process serves, never at
  import or in ``create_app`` (a test app, the CLI and the server's main process start none).
- **One runner at a time**: every worker process of every server on the host tries an
  exclusive, non-blocking ``flock`` on one lock file (``MAINTENANCE_LOCK``); the holder
  runs the jobs, the others retry each tick. The kernel releases the lock when the
  holder dies, so another worker takes over within a tick. Two hosts sharing one
  database may each run the jobs: they are idempotent (deletes of what is past).
- A job that fails is logged and tried again at its next due time; it never stops the
  thread or a request.
"""

from __future__ import annotations

import fcntl
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import IO, Any

from flask import Flask

from page_tracker.celery_app import CELERY
from page_tracker.extensions import Extension
from page_tracker.features import PeriodicJob
from page_tracker.settings import SETTINGS

log = logging.getLogger(__name__)

TICK_SECONDS = 30.0


class FileLock:
    """An exclusive ``flock`` held from :meth:`try_acquire` until :meth:`release` (or the
    process's end). Each instance opens the file itself, so two instances conflict even
    within one process."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[bytes] | None = None

    @property
    def held(self) -> bool:
        return self._file is not None

    def try_acquire(self) -> bool:
        if self._file is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("ab")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._file = handle
        return True

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


class MaintenanceRunner:
    """Runs each job every ``job.every`` while it holds ``lock``; every job is due at the
    runner's start (a restarted server catches up at once)."""

    def __init__(
        self,
        jobs: Sequence[PeriodicJob],
        run_job: Callable[[PeriodicJob], Any],
        lock: FileLock,
        *,
        tick: float = TICK_SECONDS,
    ) -> None:
        self.jobs = tuple(jobs)
        self.run_job = run_job
        self.lock = lock
        self.tick = tick
        self._due = dict.fromkeys((job.name for job in self.jobs), 0.0)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def start(self) -> None:
        """Start the thread (once; later calls do nothing)."""
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, name="page-tracker-maintenance", daemon=True
                )
                self._thread.start()

    @property
    def started(self) -> bool:
        return self._thread is not None

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self.lock.release()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                if self.lock.try_acquire():
                    self.run_due(time.monotonic())
            except OSError as error:  # the lock file's directory is not writable
                log.error("periodic jobs not run: %s", error)
            self._stop.wait(self.tick)

    def run_due(self, now: float) -> list[str]:
        """Run the jobs due at ``now``; the names of those that ran."""
        ran = []
        for job in self.jobs:
            if self._stop.is_set() or now < self._due[job.name]:
                continue
            self._due[job.name] = now + job.every.total_seconds()
            try:
                self.run_job(job)
            except Exception:  # one job's failure must not end the thread
                log.exception("periodic job %s failed; next try in %s", job.name, job.every)
            ran.append(job.name)
        return ran


MAINTENANCE: Extension[MaintenanceRunner] = Extension(
    "page_tracker.maintenance", "embedded mode's runner of the periodic jobs"
)


def celery_job_runner(app: Flask) -> Callable[[PeriodicJob], Any]:
    """Run a job's registered Celery task in this process, inside the app context (the
    task class of :func:`~page_tracker.celery_app.celery_init_app` provides it)."""
    celery_app = CELERY.get(app)

    def run(job: PeriodicJob) -> Any:
        return celery_app.tasks[job.task](**job.kwargs)

    return run


def install(app: Flask, jobs: Iterable[PeriodicJob], *, tick: float = TICK_SECONDS) -> bool:
    """In embedded mode (no broker) with ``EMBEDDED_JOBS`` on, make ``app`` start a
    :class:`MaintenanceRunner` on its first request. Returns whether it will."""
    settings = SETTINGS.get(app)
    if settings.broker_url is not None or not settings.embedded_jobs:
        return False
    runner = MAINTENANCE.put(
        app,
        MaintenanceRunner(
            list(jobs), celery_job_runner(app), FileLock(settings.maintenance_lock), tick=tick
        ),
    )
    inner = app.wsgi_app

    def start_then_serve(environ: dict[str, Any], start_response: Any) -> Any:
        # Started here rather than when the app is built: a server that preloads builds
        # the app in its master, whose threads do not survive the fork into workers.
        if not runner.started:
            runner.start()
        return inner(environ, start_response)

    app.wsgi_app = start_then_serve  # type: ignore[method-assign]
    return True


def close(app: Flask) -> None:
    runner = MAINTENANCE.find(app)
    if runner is not None:
        runner.stop()
