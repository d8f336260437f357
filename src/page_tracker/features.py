"""What a feature package gives the app: the one contract between features and the factory.

Each feature package (``sites``, ``stats``, ``buffer``, ``ingest``, ``compat``,
``seedpage``, ``health``) declares one :class:`Feature` in its ``feature`` module: how
it sets itself up in an app (extensions, blueprints, hooks), how it lets go of what it
holds, its ``page-tracker`` commands and its periodic jobs. The app factory
(:mod:`page_tracker.app`) lists the features, lower layers first; the command line adds
their commands; Celery beat is given their jobs. Nothing below the factory imports a
feature by name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import click
from flask import Flask


@dataclass(frozen=True)
class PeriodicJob:
    """A task beat runs every ``every``; ``task`` is the registered Celery task name."""

    name: str
    task: str
    every: timedelta
    kwargs: dict[str, Any] = field(default_factory=dict)


def _nothing(_app: Flask) -> None:
    return None


@dataclass(frozen=True)
class Feature:
    """A feature as the factory sees it.

    ``init_app(app)`` runs once per app, after the core extensions (settings, database,
    Redis client, metrics, Celery) exist and after the features listed before it;
    ``close_app(app)`` runs in reverse order when the app is closed.
    """

    name: str
    init_app: Callable[[Flask], None] = _nothing
    close_app: Callable[[Flask], None] = _nothing
    commands: tuple[click.Command, ...] = ()
    periodic_jobs: tuple[PeriodicJob, ...] = ()
