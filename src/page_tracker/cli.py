"""The ``page-tracker`` command line.

Every command exits 0 on success and non-zero with one ``page-tracker: error: ...``
line on failure. Commands that need the app run inside its app context.
"""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import click
from flask import Flask
from flask.cli import AppGroup, ScriptInfo, with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from page_tracker import migrate
from page_tracker.app import FEATURES, create_app
from page_tracker.celery_app import CELERY
from page_tracker.cli_errors import fail
from page_tracker.db import get_db
from page_tracker.errors import ConfigError, PageTrackerError
from page_tracker.redis_client import make_redis_client
from page_tracker.redis_memory import check_eviction_policy
from page_tracker.settings import SETTINGS, Settings, load_settings


def _load_app(*_args: object) -> Flask:
    try:
        return create_app()
    except ConfigError as error:
        fail(str(error), exit_code=2)


def script_info() -> ScriptInfo:
    """How commands find their app; pydantic-settings reads ``.env`` itself."""
    return ScriptInfo(create_app=_load_app, set_debug_flag=False, load_dotenv_defaults=False)


@click.group(cls=AppGroup)
@click.version_option(version("page-tracker"), prog_name="page-tracker")
def cli() -> None:
    """page-tracker: self-hosted page views, visitors and counters."""


def main() -> None:
    """Console entry point (``page-tracker``)."""
    cli(obj=script_info())


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    help="Worker processes [one per core (at most 8); 1 on SQLite].",
)
@click.option(
    "--threads",
    type=click.IntRange(1, 1024),
    default=64,
    show_default=True,
    help="Request threads per worker.",
)
@click.option("--access-log/--no-access-log", default=False, help="Log every request.")
@click.option("--reload", is_flag=True, help="Restart on code changes (development).")
def serve(  # noqa: PLR0917 - one parameter per click option
    host: str,
    port: int,
    workers: int | None,
    threads: int,
    access_log: bool,
    reload: bool,
) -> None:
    """Serve the app over HTTP with granian (the server make run, the image and compose
    start; chosen by measurement, bench/README.md)."""
    from page_tracker.serving import granian_server  # noqa: PLC0415

    try:
        settings = load_settings()
        _check_redis_policy(settings)
    except ConfigError as error:
        fail(str(error), exit_code=2)
    granian_server(
        settings,
        host=host,
        port=port,
        workers=workers,
        threads=threads,
        reload=reload,
        access_log=access_log,
    ).serve()


def _check_redis_policy(settings: Settings) -> None:
    """Refuse an evicting Redis before any server process starts: one line, not the
    traceback of every worker that fails to boot."""
    if settings.redis_url is None:
        return
    client = make_redis_client(settings.redis_url)
    try:
        check_eviction_policy(client, settings.redis_accept_eviction_risk)
    finally:
        client.close()


@cli.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.option("--concurrency", type=click.IntRange(1, 64), default=2, show_default=True)
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
@with_appcontext
def worker(concurrency: int, celery_args: tuple[str, ...]) -> None:
    """Run a Celery worker (extra arguments go to ``celery worker``)."""
    celery_app = CELERY.get()
    if not SETTINGS.get().broker_url:
        fail("the worker needs REDIS_URL or CELERY_BROKER_URL (embedded mode has no worker)")
    celery_app.worker_main(
        ["worker", f"--concurrency={concurrency}", "--loglevel=INFO", *celery_args]
    )


@cli.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.option(
    "--schedule-file",
    default="var/celerybeat-schedule",
    show_default=True,
    help="Where beat keeps its last-run times.",
)
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
@with_appcontext
def beat(schedule_file: str, celery_args: tuple[str, ...]) -> None:
    """Run Celery beat, the scheduler of the periodic jobs (flushes, salt rotation)."""
    celery_app = CELERY.get()
    if not SETTINGS.get().broker_url:
        fail("beat needs REDIS_URL or CELERY_BROKER_URL (embedded mode has no scheduler)")
    Path(schedule_file).parent.mkdir(parents=True, exist_ok=True)
    celery_app.start(["beat", f"--schedule={schedule_file}", "--loglevel=INFO", *celery_args])


@cli.group()
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Apply the migrations up to REVISION."""
    try:
        migrate.upgrade(get_db().engine, revision)
    except (SQLAlchemyError, PageTrackerError) as error:
        fail(f"migration failed: {error.__class__.__name__}: {str(error).splitlines()[0]}")
    click.echo(f"database at revision {migrate.current_revision(get_db().engine)}")


@db.command("current")
@with_appcontext
def db_current() -> None:
    """Print the database's migration revision."""
    try:
        click.echo(migrate.current_revision(get_db().engine) or "empty")
    except SQLAlchemyError as error:
        fail(f"database unavailable: {str(error).splitlines()[0]}")


@cli.command("config")
@with_appcontext
def show_config() -> None:
    """Print the effective configuration (secrets masked)."""
    settings = SETTINGS.get()
    for name, value in settings.model_dump(by_alias=True).items():
        shown = mask_password(str(value)) if name.endswith("_URL") and value else value
        click.echo(f"{name}={shown}")


def mask_password(url: str) -> str:
    """``scheme://user:***@host/...``: a URL safe to print."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


for feature in FEATURES:
    for command in feature.commands:
        cli.add_command(command)


if __name__ == "__main__":  # pragma: no cover
    main()
