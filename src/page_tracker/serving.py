"""Run the app under granian, configured from the settings.

:func:`granian_server` is what ``page-tracker serve`` starts, and with it ``make run``,
the image's CMD and compose's ``web``: granian's Rust HTTP server with many blocking
threads per worker, which is what the group-committed ingest path needs (README "Redis
mode and scaling"). gunicorn (gthread, 2 x 4), the previous server of the image and
compose, answered 3.5 - 10x fewer requests on every route measured in the same bench run
(bench/README.md, issue 13), so it is no longer shipped.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask

from page_tracker.logs import GRANIAN_ACCESS_FORMAT, load_logging_config
from page_tracker.settings import Settings


def announce_threads(threads: int) -> None:
    """Tell the workers' apps how many request threads they serve (the database pool
    is sized from it, :attr:`Settings.pool_size`): workers inherit the environment."""
    os.environ[THREADS_VARIABLE] = str(threads)


THREADS_VARIABLE = "PAGE_TRACKER_THREADS"


WORKERS_KILL_TIMEOUT = 15


def granian_app() -> Flask:
    """Granian's app factory (``factory=True``): one app per worker process; granian
    configured logging with the same dictionary before calling it."""
    from page_tracker.app import create_serving_app  # noqa: PLC0415 - built in the worker

    return create_serving_app()


def default_granian_workers(settings: Settings) -> int:
    """Redis mode: one worker per core (granian's Rust runtime serves the sockets, so
    more processes than cores only add contention). Embedded mode: one, because the
    database has a single writer and one process makes the largest group commits
    (bench/README.md: 2 105 hits/s with one worker, 755 with two)."""
    if not settings.uses_redis and settings.database_url.startswith("sqlite"):
        return 1
    return max(1, min(os.cpu_count() or 1, 8))


def granian_server(
    settings: Settings,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int | None = None,
    threads: int = 64,
    reload: bool = False,
    access_log: bool = False,
) -> Any:
    """A granian WSGI server (not started: call ``.serve()``) for :func:`granian_app`.

    ``threads`` is granian's blocking threads per worker: requests waiting on a group
    commit hold a thread each, so it bounds the hits in flight per worker. The access
    log is off by default: at 10 000+ hits/s one log line per hit costs more than the
    hit (``access_log=True`` writes it to ``access.log`` like gunicorn does).
    """
    from granian.constants import Interfaces  # noqa: PLC0415 - optional server
    from granian.server import Server  # noqa: PLC0415

    settings.log_dir.mkdir(parents=True, exist_ok=True)
    announce_threads(threads)
    config = load_logging_config(
        settings.log_config,
        settings.log_dir,
        settings.log_level,
        full_access=settings.log_full_access,
    )
    loggers = config.setdefault("loggers", {})
    loggers.setdefault("_granian", {"level": "INFO", "handlers": ["console", "file", "error_file"]})
    loggers["_granian"]["propagate"] = False
    loggers.setdefault("granian.access", {"level": "INFO", "handlers": ["console", "access_file"]})
    loggers["granian.access"]["propagate"] = False
    return Server(
        "page_tracker.serving:granian_app",
        factory=True,
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        workers=workers or default_granian_workers(settings),
        blocking_threads=threads,
        websockets=False,
        log_dictconfig=config,
        log_access=access_log,
        log_access_format=GRANIAN_ACCESS_FORMAT,
        reload=reload,
        # A worker that has not stopped 15 s after SIGTERM is killed: seen here after
        # heavy load, a granian 2.8 worker can hang in its signal handler. Nothing is lost
        # by that: a hit is acknowledged only once it is durable.
        workers_kill_timeout=WORKERS_KILL_TIMEOUT,
    )
