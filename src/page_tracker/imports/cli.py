"""``page-tracker import FORMAT SITE_ID FILE`` and ``page-tracker imports list|delete``.

A progress bar (rows/s and ETA) is drawn only when stderr is a terminal: piped or in
CI, an import prints its summary line and nothing else.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
import redis
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from page_tracker.cli_errors import fail
from page_tracker.db import get_db, get_session
from page_tracker.errors import APIError
from page_tracker.imports import lease
from page_tracker.imports.busuanzi import BusuanziCsvImport, BusuanziRedisImport, page_path
from page_tracker.imports.export import write_csv, write_json_lines, write_plausible
from page_tracker.imports.goatcounter import GoatCounterImport
from page_tracker.imports.own import OwnExportImport
from page_tracker.imports.plausible import PlausibleImport
from page_tracker.imports.rollup_rows import rollup_rows
from page_tracker.imports.services import Importer, ImportReport, ImportRunner, list_imports
from page_tracker.settings import SETTINGS
from page_tracker.sites.services import allowed_hosts, get_site
from page_tracker.stats.queries import site_paths

EXISTING_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def session_factory() -> sessionmaker[Session]:
    """Sessions of their own (one per chunk), not the command's scoped one."""
    return sessionmaker(bind=get_db().engine, expire_on_commit=False)


def site_hosts(site_id: str) -> set[str]:
    site = get_site(get_session(), site_id)
    if site is None:
        fail(f"no site {site_id!r} (page-tracker sites list shows the ids)")
    return allowed_hosts(site)


@contextmanager
def _errors_as_lines() -> Iterator[None]:
    """A refused import or a database error ends the command with one line."""
    try:
        yield
    except APIError as error:
        fail(error.message)
    except SQLAlchemyError as error:
        fail(
            f"database error: {str(error).splitlines()[0]} "
            "(the committed chunks stay; run the same command again to resume)"
        )


@contextmanager
def _progress(total: int, position: Callable[[], int]) -> Iterator[Callable[[int], None] | None]:
    """A bar over ``total`` units whose ``position()`` is read after each row; ``None``
    (no bar) when stderr is not a terminal."""
    if not sys.stderr.isatty() or total <= 0:
        yield None
        return
    rows = 0
    began = time.monotonic()

    def rate(_item: object) -> str:
        return f"{rows} rows, {rows / max(time.monotonic() - began, 0.001):,.0f} rows/s"

    bar: Any
    with click.progressbar(
        length=total,
        file=sys.stderr,
        label="importing",
        show_eta=True,
        show_percent=True,
        item_show_func=rate,
    ) as bar:
        shown = 0

        def advance(_rows: int) -> None:
            nonlocal rows, shown
            rows += 1
            if rows % 1000 == 0:
                now = position()
                bar.update(now - shown)
                shown = now

        yield advance
        bar.update(total - shown)


def run(
    site_id: str, importer: Importer, *, replace: bool, skip_bad_rows: bool, size: int = 0,
    position: Callable[[], int] = lambda: 0,
) -> ImportReport:  # fmt: skip
    with _errors_as_lines(), _progress(size, position) as advance:
        runner = ImportRunner(
            session_factory(),
            progress=advance,
            lease_seconds=SETTINGS.get(current_app).import_lease_seconds,
        )
        report = runner.run(site_id, importer, replace=replace, skip_bad_rows=skip_bad_rows)
    if report.replaced is not None:
        click.echo(f"replaced import {report.replaced}")
    if report.resumed_after:
        click.echo(f"resumed after row {report.resumed_after}")
    click.echo(
        f"import {report.import_id}: {report.rows} rows, {report.pageviews} page views "
        f"into {site_id}" + (f", {report.skipped} bad rows skipped" if report.skipped else "")
    )
    for bad in report.bad_rows:
        click.echo(f"skipped: {bad.message}", err=True)
    if report.skipped > len(report.bad_rows):
        click.echo(f"skipped: ... and {report.skipped - len(report.bad_rows)} more", err=True)
    return report


def _common(function: Callable[..., Any]) -> Callable[..., Any]:
    function = click.option(
        "--replace", is_flag=True, help="Take out an earlier import of the same content first."
    )(function)
    return click.option(
        "--skip-bad-rows",
        is_flag=True,
        help="Leave malformed rows out and report them instead of stopping.",
    )(function)


@click.group("import")
def import_group() -> None:
    """Import another tracker's history into a site (see README, 'Importing and exporting')."""


@import_group.command("goatcounter")
@click.argument("site_id")
@click.argument("file", type=EXISTING_FILE)
@_common
@with_appcontext
def import_goatcounter(site_id: str, file: Path, replace: bool, skip_bad_rows: bool) -> None:
    """GoatCounter's CSV export (version 2, plain or .csv.gz): page views by the hour."""
    with _errors_as_lines():
        importer = GoatCounterImport(file, site_hosts(site_id))
    run(
        site_id, importer, replace=replace, skip_bad_rows=skip_bad_rows,
        size=importer.size(), position=lambda: importer.bytes_read,
    )  # fmt: skip


@import_group.command("plausible")
@click.argument("site_id")
@click.argument("source", type=click.Path(exists=True, path_type=Path), metavar="ZIP_OR_DIR")
@_common
@with_appcontext
def import_plausible(site_id: str, source: Path, replace: bool, skip_bad_rows: bool) -> None:
    """Plausible's CSV export (the zip, or a folder of its files): daily history."""
    with _errors_as_lines():
        importer = PlausibleImport(source, site_hosts(site_id))
    for name in importer.ignored:
        click.echo(f"ignored: {name} (not a Plausible export file name)", err=True)
    run(site_id, importer, replace=replace, skip_bad_rows=skip_bad_rows)


@import_group.command("busuanzi")
@click.argument("site_id")
@click.argument("file", type=EXISTING_FILE, required=False)
@click.option("--from-redis", "redis_url", help="Read a running Busuanzi's Redis (redis://...).")
@click.option("--prefix", default="bsz", show_default=True, help="Its key prefix.")
@click.option(
    "--paths",
    "paths_file",
    type=EXISTING_FILE,
    help="With --from-redis: the site's page URLs or paths, one a line (hashed page ids "
    "are matched against them and the paths page-tracker already knows).",
)
@click.option("--site-pv", type=click.IntRange(0), help="The site's total views (CSV).")
@click.option("--site-uv", type=click.IntRange(0), help="The site's total visitors (CSV).")
@_common
@with_appcontext
def import_busuanzi(  # noqa: PLR0917 - one parameter per click option
    site_id: str,
    file: Path | None,
    redis_url: str | None,
    prefix: str,
    paths_file: Path | None,
    site_pv: int | None,
    site_uv: int | None,
    replace: bool,
    skip_bad_rows: bool,
) -> None:
    """Busuanzi's all-time counts, from FILE (url,page_pv[,page_uv]) or --from-redis."""
    if (file is None) == (redis_url is None):
        fail("give either FILE or --from-redis URL")
    hosts = site_hosts(site_id)
    importer: BusuanziCsvImport | BusuanziRedisImport
    if file is not None:
        with _errors_as_lines():
            importer = BusuanziCsvImport(file, hosts, site_pv=site_pv, site_uv=site_uv)
        run(site_id, importer, replace=replace, skip_bad_rows=skip_bad_rows)
        return
    if redis_url is None:  # unreachable (checked above); narrows the type for mypy
        fail("give either FILE or --from-redis URL")
    paths = set(site_paths(get_session(), site_id))
    if paths_file is not None:
        for line in paths_file.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.strip() and (path := page_path(line, hosts)) is not None:
                paths.add(path)
    client = redis.Redis.from_url(redis_url)
    try:
        importer = BusuanziRedisImport(client, prefix, hosts, paths, label=redis_label(redis_url))
        run(site_id, importer, replace=replace, skip_bad_rows=skip_bad_rows)
    finally:
        client.close()
    if importer.unmatched_pages:
        click.echo(
            f"{importer.unmatched_pages} pages ({importer.unmatched_views} views) matched no "
            "known path: their views count in the site total only (--paths names more pages)",
            err=True,
        )


def redis_label(url: str) -> str:
    """How the import names a Redis: no user name or password."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}:{parts.port or 6379}{parts.path or '/0'}"


@import_group.command("page-tracker")
@click.argument("site_id")
@click.argument("file", type=EXISTING_FILE)
@_common
@with_appcontext
def import_own(site_id: str, file: Path, replace: bool, skip_bad_rows: bool) -> None:
    """page-tracker's own export (page-tracker export --format csv|json), row for row."""
    site_hosts(site_id)
    with _errors_as_lines():
        importer = OwnExportImport(file)
    run(site_id, importer, replace=replace, skip_bad_rows=skip_bad_rows)


@contextmanager
def _replaced(target: Path, mode: str) -> Iterator[Any]:
    """A file written next to ``target`` and renamed onto it once complete."""
    partial = target.with_name(f".{target.name}.partial")
    try:
        out = partial.open("wb") if mode == "wb" else partial.open("w", encoding="utf-8")
        with out:
            yield out
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)


@click.command("export")
@click.argument("site_id")
@click.option(
    "--format",
    "kind",
    type=click.Choice(["csv", "json", "plausible"]),
    default="csv",
    show_default=True,
    help="csv/json: ours (page-tracker import page-tracker reads it back); plausible: a zip "
    "Plausible imports.",
)
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), help="First day (UTC).")
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), help="Last day (UTC).")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write [csv/json: standard output; plausible: DOMAIN-plausible-export.zip].",
)
@with_appcontext
def export(
    site_id: str, kind: str, start: datetime | None, end: datetime | None, output: Path | None
) -> None:
    """Export a site's statistics (all time, or --from/--to)."""
    session = get_session()
    site = get_site(session, site_id)
    if site is None:
        fail(f"no site {site_id!r} (page-tracker sites list shows the ids)")
    first = start.date() if start else None
    last = end.date() if end else None
    if first and last and first > last:
        fail("--from is after --to")
    rows = rollup_rows(session, site_id, first, last)
    try:
        if kind == "plausible":
            target = output or Path(f"{site.domain}-plausible-export.zip")
            with _replaced(target, "wb") as out:
                days = write_plausible(rows, out, domain=site.domain)
            click.echo(f"exported {days} days of {site_id} to {target}", err=True)
            return
        destination: AbstractContextManager[Any] = nullcontext(sys.stdout)
        if output is not None:
            destination = _replaced(output, "w")
        with destination as text_out:
            if kind == "csv":
                count = write_csv(rows, text_out)
            else:
                count = write_json_lines(rows, text_out, domain=site.domain, start=first, end=last)
    except SQLAlchemyError as error:
        fail(f"database error: {str(error).splitlines()[0]}")
    except OSError as error:
        fail(f"cannot write the export: {error}")
    if output:
        click.echo(f"exported {count} rows of {site_id} to {output}", err=True)


@click.group("imports")
def imports_group() -> None:
    """List and delete imports."""


@imports_group.command("list")
@click.argument("site_id", required=False)
@with_appcontext
def imports_list(site_id: str | None) -> None:
    """List the imports (of SITE_ID, or of every site). ``running`` is being imported;
    ``abandoned`` was interrupted (its process stopped: no heartbeat within
    IMPORT_LEASE_SECONDS), and the same command resumes it, or ``imports delete`` takes
    it out."""
    try:
        found = list_imports(get_session(), site_id)
    except SQLAlchemyError as error:
        fail(f"database error: {str(error).splitlines()[0]}")
    click.echo(f"{'id':>5}  {'site':<12}  {'source':<12}  {'status':<9}  {'rows':>9}  "
               f"{'views':>10}  {'days':<21}  name")  # fmt: skip
    at = lease.now()
    for run_ in found:
        days = f"{run_.first_day or '-'}..{run_.last_day or '-'}" if run_.first_day else "-"
        status = (
            "abandoned" if lease.is_abandoned(run_.status, run_.lease_until, at) else run_.status
        )
        click.echo(
            f"{run_.id:>5}  {run_.site_id:<12}  {run_.source:<12}  {status:<9}  "
            f"{run_.rows_imported:>9}  {run_.pageviews:>10}  {days:<21}  {run_.name}"
        )


@imports_group.command("delete")
@click.argument("import_id", type=int)
@with_appcontext
def imports_delete(import_id: int) -> None:
    """Take an import's counts out of the statistics and forget it (not while it runs:
    once it is done or abandoned)."""
    with _errors_as_lines():
        gone = ImportRunner(session_factory()).delete(import_id)
    click.echo(f"deleted import {gone.id} ({gone.source}, {gone.name}) of {gone.site_id}")
