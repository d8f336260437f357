"""Import jobs: a file uploaded to ``POST /api/v1/sites/{id}/imports``, imported by the
same :class:`~page_tracker.imports.services.ImportRunner` as ``page-tracker import``.

A job is created ``queued`` with its upload stored (:mod:`page_tracker.imports.uploads`);
:func:`run_job` (a Celery worker in Redis mode, a thread of the web process in embedded
mode) takes it to ``running``, then to ``done`` or ``failed``, and removes the upload at
either end. While it runs, its rows and bytes read are written every
:data:`PROGRESS_EVERY` seconds. A malformed file fails the job with the file, line and
column, and the runner has taken every applied chunk back out: nothing half-applied.

:func:`run_job` may run twice for one job (a worker killed mid-run: the task is delivered
again): a job found ``running`` runs again once it is abandoned and the runner resumes
after its last committed chunk; a finished job is left alone.

A running job holds a lease (:mod:`page_tracker.imports.lease`) that its runner renews
every second, with the progress, and in the transaction of every chunk. When the runner
dies (the web process of an embedded-mode import stops, a worker is killed) the lease
runs out after ``IMPORT_LEASE_SECONDS``: the job is then shown ``failed`` (abandoned)
and may be deleted, which takes out the chunks it committed; a live job is refused
(409). Deleting fails the job first with one conditional write, so a runner that only
stalled finds its job gone when it wakes and stops without writing.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from page_tracker.db import retry_transient
from page_tracker.errors import APIError, Conflict
from page_tracker.imports import lease, uploads
from page_tracker.imports.busuanzi import BusuanziCsvImport
from page_tracker.imports.errors import BadInput, ImportRunning, NoSuchImport
from page_tracker.imports.goatcounter import GoatCounterImport
from page_tracker.imports.models import DONE, FAILED, QUEUED, RUNNING, Import, ImportJob
from page_tracker.imports.plausible import PlausibleImport
from page_tracker.imports.services import MAX_REPORTED_BAD_ROWS, Importer, ImportRunner
from page_tracker.sites.services import allowed_hosts, get_site

log = logging.getLogger(__name__)

ABANDONED = (
    "abandoned: the process running it stopped (no heartbeat since {since}); delete it to "
    "take out what it imported, or upload the file again to resume"
)


def create_job(  # noqa: PLR0917 - one per column the caller fills
    session: Session,
    site_id: str,
    source: str,
    name: str,
    upload: str,
    size: int,
    options: dict[str, Any],
    user_id: int | None,
) -> ImportJob:
    """A queued job for an upload (in the caller's transaction)."""
    job = ImportJob(
        site_id=site_id,
        source=source,
        name=name[:255],
        state=QUEUED,
        options=options,
        upload=upload,
        size=size,
        bytes_read=0,
        rows=0,
        rows_skipped=0,
        pageviews=0,
        errors=[],
        created_by=user_id,
    )
    session.add(job)
    session.flush()
    return job


def get_job(session: Session, site_id: str, job_id: int) -> ImportJob:
    job = session.get(ImportJob, job_id)
    if job is None or job.site_id != site_id:
        raise NoSuchImport(f"no import {job_id} of site {site_id}")
    return job


def list_jobs(session: Session, site_id: str) -> list[ImportJob]:
    """A site's import jobs, newest first."""
    query = select(ImportJob).where(ImportJob.site_id == site_id).order_by(ImportJob.id.desc())
    return list(session.scalars(query))


def progress_of(job: ImportJob) -> float | None:
    """How far a job got, 0 to 1, when its format tells (bytes read of the upload)."""
    if job.state == DONE:
        return 1.0
    if job.state == RUNNING and job.size and job.bytes_read:
        return min(job.bytes_read / job.size, 1.0)
    return None if job.state == RUNNING else 0.0


@dataclass(frozen=True)
class Shown:
    """How a job is shown: a running job whose lease ran out is ``failed`` (abandoned)."""

    state: str
    errors: list[dict[str, Any]]
    abandoned: bool


def shown(job: ImportJob) -> Shown:
    if not lease.is_abandoned(job.state, job.lease_until):
        return Shown(job.state, job.errors, abandoned=False)
    return Shown(FAILED, [_abandoned_problem(job)], abandoned=True)


def _abandoned_problem(job: ImportJob) -> dict[str, Any]:
    since = job.heartbeat_at or job.started_at
    message = ABANDONED.format(since=f"{since:%Y-%m-%d %H:%M:%S} UTC" if since else "its start")
    return {"file": job.name, "line": None, "column": None, "problem": message,
            "message": message}  # fmt: skip


def problem(error: APIError, name: str) -> dict[str, Any]:
    """An error as an entry of a job's ``errors``."""
    if isinstance(error, BadInput):
        return {
            "file": error.file,
            "line": error.line,
            "column": error.column,
            "problem": error.problem,
            "message": error.message,
        }
    return {"file": name, "line": None, "column": None, "problem": error.message,
            "message": error.message}  # fmt: skip


def importer_for(job: ImportJob, path: Path, hosts: set[str]) -> Importer:
    """The reader of a job's upload; raises :class:`BadInput` when it cannot be read."""
    if job.source == "goatcounter":
        return GoatCounterImport(path, hosts)
    if job.source == "plausible":
        return PlausibleImport(path, hosts)
    if job.source == "busuanzi":
        return BusuanziCsvImport(
            path, hosts, site_pv=job.options.get("site_pv"), site_uv=job.options.get("site_uv")
        )
    raise BadInput(job.name, None, None, f"unknown source {job.source!r}")


class _Lease:
    """A running job's lease: the runner's per-row callback counts rows, and its guard
    (in each of the runner's transactions) renews the lease with the rows, the bytes
    read and the import it works on."""

    def __init__(self, job_id: int, owner: str, seconds: float) -> None:
        self.job_id = job_id
        self.owner = owner
        self.seconds = seconds
        self.rows = 0
        self.bytes_read: Callable[[], int] = lambda: 0

    def __call__(self, rows: int) -> None:
        self.rows += rows

    def guard(self, session: Session, import_id: int) -> None:
        lease.renew(session, ImportJob, self.job_id, self.owner, self.seconds,
                    rows=self.rows, bytes_read=self.bytes_read(), import_id=import_id)  # fmt: skip


class JobHeld(Conflict):
    """The job is running under another runner's live lease (a task delivered again
    while the first worker still works on it): try again after ``retry_in`` seconds."""

    def __init__(self, message: str, retry_in: float) -> None:
        super().__init__(message)
        self.retry_in = retry_in


def _claim(factory: sessionmaker[Session], job_id: int, held: _Lease) -> ImportJob | None:
    """The job, now ``running`` under ``held``; ``None`` when it is finished or gone
    (deleted); :class:`JobHeld` while another runner's lease on it is live."""
    at = lease.now()
    with factory() as session:
        claimed = session.execute(
            update(ImportJob)
            .where(
                ImportJob.id == job_id,
                or_(ImportJob.state == QUEUED, lease.abandoned_clause(ImportJob, at)),
            )
            .values(state=RUNNING, started_at=at, **lease.held(held.owner, held.seconds, at))
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
        session.commit()
        job = session.get(ImportJob, job_id)
        if job is None:
            return None
        session.expunge(job)
    if not claimed:
        if job.state != RUNNING:
            return None
        raise JobHeld(f"import {job_id} is running elsewhere", retry_in=held.seconds)
    return job


def _finish(
    factory: sessionmaker[Session], job_id: int, owner: str, import_dir: Path, **values: Any
) -> None:
    def work() -> None:
        with factory() as session:
            job = session.get(ImportJob, job_id)
            if job is None or job.lease_owner != owner:
                return  # deleted, or failed as abandoned, while this run stalled
            if job.upload is not None:
                uploads.remove(import_dir, job.upload)
            for name, value in values.items():
                setattr(job, name, value)
            job.upload = None
            job.finished_at = lease.now()
            job.lease_until = None
            session.commit()

    retry_transient(work)


def run_job(
    factory: sessionmaker[Session],
    job_id: int,
    import_dir: Path,
    lease_seconds: float = lease.LEASE_SECONDS,
) -> None:
    """Import a job's upload into its site; see the module docstring. Raises
    :class:`JobHeld` when a live runner holds the job."""
    progress = _Lease(job_id, lease.new_owner(), lease_seconds)
    job = _claim(factory, job_id, progress)
    if job is None:
        return
    finish = functools.partial(_finish, factory, job_id, progress.owner, import_dir)
    importer: Importer | None = None
    try:
        if job.upload is None:
            raise Conflict("the uploaded file is gone (the job ran before); upload it again")
        with factory() as session:
            site = get_site(session, job.site_id)
            hosts = allowed_hosts(site) if site is not None else set()
        importer = importer_for(job, uploads.path_of(import_dir, job.upload), hosts)
        reading = getattr(importer, "bytes_read", None)
        if reading is not None:
            progress.bytes_read = lambda: int(getattr(importer, "bytes_read", 0))
        runner = ImportRunner(
            factory, progress=progress, lease_seconds=lease_seconds, guard=progress.guard
        )
        report = runner.run(
            job.site_id,
            importer,
            replace=bool(job.options.get("replace")),
            skip_bad_rows=bool(job.options.get("skip_bad_rows")),
        )
    except APIError as error:  # a malformed file, imported before, the site gone
        # (a malformed file's chunks were taken back out: no import is left)
        finish(state=FAILED, rows=progress.rows, import_id=None,
               errors=[problem(error, job.name)])  # fmt: skip
        return
    except Exception as error:
        # The database or the disk failed: the committed chunks stay, and the same file
        # uploaded again resumes after them.
        log.exception("import %d failed", job_id)
        partial = _import_of(factory, job.site_id, importer)
        message = f"the import stopped: {str(error).splitlines()[0] if str(error) else error!r}"
        finish(state=FAILED, rows=progress.rows, import_id=partial, errors=[
            {"file": job.name, "line": None, "column": None, "message": message,
             "problem": message + " (upload the file again to resume)"}
        ])  # fmt: skip
        return
    finish(
        state=DONE,
        import_id=report.import_id,
        replaced=report.replaced,
        rows=report.rows + report.skipped,
        rows_skipped=report.skipped,
        pageviews=report.pageviews,
        bytes_read=job.size,
        errors=[problem(bad, job.name) for bad in report.bad_rows[:MAX_REPORTED_BAD_ROWS]],
    )


def _import_of(
    factory: sessionmaker[Session], site_id: str, importer: Importer | None
) -> int | None:
    """The import an interrupted run left (its committed chunks), so that deleting the
    job takes them out too."""
    if importer is None:
        return None
    try:
        with factory() as session:
            return session.scalar(
                select(Import.id).where(
                    Import.site_id == site_id, Import.content_hash == importer.content_hash
                )
            )
    except SQLAlchemyError:
        return None


def delete_job(factory: sessionmaker[Session], site_id: str, job_id: int, import_dir: Path) -> None:
    """Take a job's imported counts out of the statistics (as ``page-tracker imports
    delete`` does) and forget the job; a running job is refused (409) unless it is
    abandoned (its lease ran out: it is failed first, so its runner cannot go on)."""
    with factory() as session:
        job = get_job(session, site_id, job_id)
        if job.state == RUNNING:
            _fail_abandoned(session, job)
        import_id, upload = job.import_id, job.upload
    if import_id is not None:
        # Gone already: replaced, or taken out by page-tracker imports delete; or
        # resumed by a later upload of the same file, whose runner now holds it.
        with contextlib.suppress(NoSuchImport, ImportRunning):
            ImportRunner(factory).delete(import_id, site_id)
    with factory() as session:
        # Not while a worker claims it: a job that started meanwhile stays.
        gone = session.execute(
            delete(ImportJob)
            .where(ImportJob.id == job_id, ImportJob.state != RUNNING)
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
        session.commit()
    if not gone:
        raise Conflict(f"import {job_id} started running; delete it once it is done or failed")
    if upload is not None:
        uploads.remove(import_dir, upload)


def _fail_abandoned(session: Session, job: ImportJob) -> None:
    """Fail a running job whose lease ran out (committed); 409 while it is live."""
    at = lease.now()
    failed = session.execute(
        update(ImportJob)
        .where(ImportJob.id == job.id, lease.abandoned_clause(ImportJob, at))
        .values(state=FAILED, finished_at=at, lease_owner=None, errors=[_abandoned_problem(job)])
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    session.commit()
    if not failed:
        raise Conflict(
            f"import {job.id} is running; delete it once it is done, failed or abandoned "
            f"(its lease runs until {lease.expires(job.lease_until)} unless renewed)"
        )


def forget_site_jobs(session: Session, site_id: str, import_dir: Path) -> None:
    """A deleted site's jobs and their uploads (in the caller's transaction)."""
    for job in list_jobs(session, site_id):
        if job.upload is not None:
            uploads.remove(import_dir, job.upload)
        session.delete(job)
