"""The imports feature: ``page-tracker import``, ``imports`` and ``export``, the import
endpoint (``/api/v1/sites/{id}/imports``) and its task; a deleted site's imports and
import jobs are forgotten with it."""

from __future__ import annotations

from flask import Flask, current_app
from sqlalchemy.orm import Session

from page_tracker.features import Feature
from page_tracker.imports import tasks, views
from page_tracker.imports.cli import export, import_group, imports_group
from page_tracker.imports.jobs import forget_site_jobs
from page_tracker.imports.services import purge_site_imports
from page_tracker.settings import SETTINGS
from page_tracker.sites.feature import on_site_deleted

# The task is registered with Celery when this module is loaded (the worker's app).
TASKS = (tasks.run_import,)


def _forget_site(session: Session, site_id: str) -> None:
    purge_site_imports(session, site_id)
    forget_site_jobs(session, site_id, SETTINGS.get(current_app).import_dir)


def init_app(app: Flask) -> None:
    tasks.THREADS.put(app, set())
    app.register_blueprint(views.blueprint)
    on_site_deleted(app, _forget_site)


def close_app(app: Flask) -> None:
    # Embedded mode: an import still running gets a moment to reach a chunk boundary
    # (whatever it committed stays; the same file uploaded again resumes after it).
    tasks.wait(app, CLOSE_WAIT_SECONDS)


CLOSE_WAIT_SECONDS = 10.0
FEATURE = Feature(
    "imports",
    init_app=init_app,
    close_app=close_app,
    commands=(import_group, imports_group, export),
)
