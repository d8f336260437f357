"""``/api/v1/sites/{id}/imports``: upload another tracker's export, follow its job, list
and delete imports. The same runner as ``page-tracker import`` does the work
(:mod:`page_tracker.imports.jobs`); site owners (and admins) import and delete, every
member lists."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request, url_for

from page_tracker.auth.permissions import site_for
from page_tracker.auth.principal import require
from page_tracker.auth.tokens import Scope
from page_tracker.db import get_db, get_session
from page_tracker.imports import jobs, tasks, uploads
from page_tracker.imports.models import ImportJob
from page_tracker.imports.schemas import ImportForm, ImportList, ImportOut, ImportProblem
from page_tracker.json_api import ROW_ID, operation
from page_tracker.settings import SETTINGS

blueprint = Blueprint("api_imports", __name__, url_prefix="/api/v1")

_READ_ERRORS = (401, 403, 404)


def _max_upload() -> int:
    return SETTINGS.get(current_app).import_max_bytes


def _out(job: ImportJob) -> ImportOut:
    seen = jobs.shown(job)
    return ImportOut(
        id=job.id,
        site_id=job.site_id,
        source=job.source,  # one of Source: the form checked it
        name=job.name,
        state=seen.state,
        abandoned=seen.abandoned,
        replace=bool(job.options.get("replace")),
        skip_bad_rows=bool(job.options.get("skip_bad_rows")),
        size=job.size,
        rows=job.rows,
        rows_skipped=job.rows_skipped,
        pageviews=job.pageviews,
        progress=jobs.progress_of(job),
        errors=[ImportProblem.model_validate(item) for item in seen.errors],
        import_id=job.import_id,
        replaced=job.replaced,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
    )


@blueprint.post("/sites/<site_id>/imports")
@operation(
    "Import another tracker's export into a site (owners); answered before it runs",
    tag="imports",
    access="write",
    form=ImportForm,
    files=("file",),
    max_upload=_max_upload,
    responses={202: ImportOut},
    errors=(400, 401, 403, 404, 413, 415),
)
def create_import(site_id: str, form: ImportForm) -> Response:
    principal = require(Scope.WRITE)
    session = get_session()
    site_for(session, principal, site_id, manage=True)
    upload = request.files["file"]
    settings = SETTINGS.get(current_app)
    stored, size = uploads.store(
        settings.import_dir, upload.filename, upload.stream, settings.import_max_bytes
    )
    try:
        job = jobs.create_job(
            session,
            site_id,
            form.source,
            uploads.clean_name(upload.filename),
            stored,
            size,
            form.model_dump(exclude={"source"}, exclude_none=True),
            principal.user.id,
        )
        session.commit()
    except BaseException:
        uploads.remove(settings.import_dir, stored)
        raise
    answer = _out(job)
    tasks.start(current_app._get_current_object(), job.id)  # type: ignore[attr-defined]
    location = url_for(".get_import", site_id=site_id, job_id=job.id)
    return Response(
        answer.model_dump_json() + "\n",
        202,
        content_type="application/json",
        headers={"Location": location},
    )


@blueprint.get("/sites/<site_id>/imports")
@operation(
    "A site's imports, newest first",
    tag="imports",
    access="read",
    responses={200: ImportList},
    errors=_READ_ERRORS,
)
def list_imports(site_id: str) -> ImportList:
    principal = require(Scope.READ)
    session = get_session()
    site_for(session, principal, site_id, manage=False)
    return ImportList([_out(job) for job in jobs.list_jobs(session, site_id)])


@blueprint.get(f"/sites/<site_id>/imports/<{ROW_ID}:job_id>")
@operation(
    "An import: its state, rows, progress and errors",
    tag="imports",
    access="read",
    responses={200: ImportOut},
    errors=_READ_ERRORS,
)
def get_import(site_id: str, job_id: int) -> ImportOut:
    principal = require(Scope.READ)
    session = get_session()
    site_for(session, principal, site_id, manage=False)
    return _out(jobs.get_job(session, site_id, job_id))


@blueprint.delete(f"/sites/<site_id>/imports/<{ROW_ID}:job_id>")
@operation(
    "Take an import's counts out of the statistics and forget it (owners)",
    tag="imports",
    access="write",
    responses={204: None},
    errors=(401, 403, 404, 409),
)
def delete_import(site_id: str, job_id: int) -> None:
    principal = require(Scope.WRITE)
    session = get_session()
    site_for(session, principal, site_id, manage=True)
    session.commit()  # end the read: the deletion runs in sessions of its own
    factory = get_db().sessions.session_factory
    jobs.delete_job(factory, site_id, job_id, SETTINGS.get(current_app).import_dir)
