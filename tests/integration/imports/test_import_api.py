"""``/api/v1/sites/{id}/imports``: an uploaded export is answered 202 at once and imported
by the same runner as the CLI: in a thread of the web process (embedded mode) or by a
real Celery worker (Redis mode), on each database. A malformed file fails with its line
and column and changes nothing; the same file twice does not double; replace and delete
take the counts back out; an upload over the limit is 413 and leaves no file behind."""

from __future__ import annotations

import gc
import io
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from celery.contrib.testing.worker import start_worker
from flask import Flask
from flask.testing import FlaskClient

from page_tracker.auth.tokens import Scope, issue_token
from page_tracker.celery_app import CELERY
from page_tracker.db import get_session
from page_tracker.imports import jobs, tasks
from page_tracker.users.memberships import set_member
from page_tracker.users.models import MemberRole
from page_tracker.users.services import create_user
from tests.integration.imports.conftest import imports_of, run_cli, snapshot
from tests.integration.imports.files import (
    GOATCOUNTER_HEADER,
    GoatView,
    goatcounter_text,
    sample_views,
)
from tests.integration.sites import add_site

FINISHED = {"done", "failed"}
BOUNDARY = "pt-test-boundary"


def multipart(fields: dict[str, str], content: bytes, name: str) -> bytes:
    """A ``multipart/form-data`` body: the text fields, then the file."""
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'
        for key, value in fields.items()
    ]
    parts.append(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    )
    return "".join(parts).encode() + content + f"\r\n--{BOUNDARY}--\r\n".encode()


@dataclass
class Api:
    app: Flask
    client: FlaskClient
    site: str
    token: str
    import_dir: Path

    def call(self, method: str, path: str = "", headers: dict[str, str] | None = None,
             **kwargs: Any) -> Any:  # fmt: skip
        return self.client.open(
            f"/api/v1/sites/{self.site}/imports{path}",
            method=method,
            headers={"Authorization": f"Bearer {self.token}", **(headers or {})},
            **kwargs,
        )

    def upload(self, content: bytes, name: str = "export.csv", **form: str) -> Any:
        # The body built here, not by the test client (which spools a large one to a
        # temporary file it never closes).
        return self.call(
            "POST",
            data=multipart({"source": "goatcounter", **form}, content, name),
            content_type=f"multipart/form-data; boundary={BOUNDARY}",
        )

    def finished(self, job_id: int) -> dict[str, Any]:
        """The job once done or failed (embedded mode: its thread ended)."""
        tasks.wait(self.app, 30)
        deadline = time.monotonic() + 30
        while True:
            job: dict[str, Any] = self.call("GET", f"/{job_id}").get_json()
            if job["state"] in FINISHED or time.monotonic() > deadline:
                return job
            time.sleep(0.05)

    def run(self, content: bytes, name: str = "export.csv", **form: str) -> dict[str, Any]:
        answer = self.upload(content, name, **form)
        assert answer.status_code == 202, answer.get_json()
        return self.finished(answer.get_json()["id"])

    def uploads_left(self) -> list[Path]:
        return [p for p in self.import_dir.rglob("*") if p.is_file()]


def _api(app: Flask, import_dir: Path) -> Api:
    site = add_site(app, "blog.example")
    with app.app_context():
        session = get_session()
        owner = create_user(session, "owner@example.com", "correct horse")
        set_member(session, site, owner, MemberRole.OWNER)
        _, token = issue_token(
            session, owner, (Scope.READ, Scope.WRITE), expires_in=timedelta(hours=1)
        )
        session.commit()
    return Api(app, app.test_client(), site, token, import_dir)


@pytest.fixture
def api(clean_database: str, make_app: Callable[..., Flask], tmp_path: Path) -> Api:
    """Embedded mode: jobs run in a thread of the app."""
    folder = tmp_path / "uploads"
    app = make_app(DATABASE_URL=clean_database, IMPORT_DIR=str(folder))
    return _api(app, folder)


@pytest.fixture
def redis_api(
    clean_database: str,
    make_app: Callable[..., Flask],
    tmp_path: Path,
    redis_url: str,
    redis_prefix: str,
) -> Iterator[Api]:
    """Redis mode: jobs go through the broker to a real Celery worker (in a thread of
    the test, on a queue of this test's own)."""
    folder = tmp_path / "uploads"
    app = make_app(
        DATABASE_URL=clean_database,
        REDIS_URL=redis_url,
        REDIS_KEY_PREFIX=redis_prefix,
        IMPORT_DIR=str(folder),
    )
    celery = CELERY.get(app)
    celery.conf.task_default_queue = f"{redis_prefix}celery"
    with start_worker(celery, pool="solo", perform_ping_check=False, shutdown_timeout=20):
        yield _api(app, folder)


def _goatcounter(views: list[GoatView] | None = None) -> bytes:
    return goatcounter_text(sample_views() if views is None else views).encode()


def test_should_answer_202_and_import_in_the_background(api: Api) -> None:
    # When an owner uploads a GoatCounter export
    answer = api.upload(_goatcounter(), "goatcounter-export.csv")

    # Then the answer is the queued job, and where to follow it
    assert answer.status_code == 202
    job = answer.get_json()
    assert job["state"] in {"queued", "running", "done"}
    assert job["source"] == "goatcounter"
    assert job["name"] == "goatcounter-export.csv"
    assert answer.headers["Location"] == f"/api/v1/sites/{api.site}/imports/{job['id']}"
    # And the job ends done, with what the CLI would have imported
    done = api.finished(job["id"])
    assert done["state"] == "done", done
    assert (done["rows"], done["pageviews"], done["progress"]) == (9, 7, 1.0)
    assert done["errors"] == []
    assert done["import_id"] == imports_of(api.app, api.site)[0].id
    got = snapshot(api.app, api.site)
    assert ("(site)", 7, 4) in got["totals"]
    # And the stats API's hourly series shows the imported hours (in any zone)
    stats = api.client.get(
        f"/api/v1/sites/{api.site}/stats?from=2025-03-01&to=2025-03-01&interval=hour"
        "&tz=Europe/Berlin",
        headers={"Authorization": f"Bearer {api.token}"},
    ).get_json()
    hours = {point["period"]: point["pageviews"] for point in stats["series"] if point["pageviews"]}
    assert hours == {"2025-03-01T10:00:00+01:00": 2, "2025-03-01T12:00:00+01:00": 2}
    assert stats["totals"] == {"pageviews": 4, "visitors": 2}
    # And the upload is gone, and the import is listed (API and CLI alike)
    assert api.uploads_left() == []
    listed = api.call("GET").get_json()
    assert [item["id"] for item in listed] == [job["id"]]
    assert "goatcounter-export.csv" in run_cli(api.app, "imports", "list", api.site).output


def test_should_fail_a_malformed_file_with_its_line_and_column_and_change_nothing(
    api: Api,
) -> None:
    # Given a file whose 30 001st row has a bad date: the first chunk was applied already
    views = [GoatView("/", sample_views()[0].at, f"s{n}") for n in range(30_000)]
    text = goatcounter_text(views) + "/late,T,0,UA,Firefox 133,Linux,s,0,,,,DE,1,yesterday\r\n"

    job = api.run(text.encode())

    assert job["state"] == "failed"
    assert job["errors"] == [
        {
            "file": "export.csv",
            "line": 30_002,
            "column": "14 (Date)",
            "problem": "not an RFC 3339 date: 'yesterday'",
            "message": "export.csv, line 30002, column 14 (Date): not an RFC 3339 date: "
            "'yesterday'",
        }
    ]
    assert job["import_id"] is None
    assert snapshot(api.app, api.site) == {
        "hourly": [],
        "daily": [],
        "monthly": [],
        "dimensions": [],
        "page_dimensions": [],
        "totals": [],
    }
    assert imports_of(api.app, api.site) == []
    assert api.uploads_left() == []


@pytest.mark.parametrize(
    ("content", "line", "column"),
    [
        pytest.param(b"1Path,Title\r\n", 1, "1 (Path)", id="wrong version"),
        pytest.param(f"{GOATCOUNTER_HEADER}\r\n/,T,0\r\n".encode(), 2, None, id="3 fields"),
        pytest.param(f"{GOATCOUNTER_HEADER}\r\n/\xff\r\n".encode("latin-1"), 2, None, id="utf-8"),
        pytest.param(b"\x1f\x8b\x08\x00broken gzip", 1, None, id="broken gzip"),
        pytest.param(b"\x00\x01\x02", 1, "1 (Path)", id="binary"),
    ],
)
def test_should_name_where_a_bad_file_is_wrong(
    api: Api, content: bytes, line: int, column: str | None
) -> None:
    job = api.run(content)

    assert job["state"] == "failed"
    assert (job["errors"][0]["line"], job["errors"][0]["column"]) == (line, column)
    assert snapshot(api.app, api.site)["totals"] == []


def test_should_not_double_the_same_file_and_replace_it_when_asked(api: Api) -> None:
    first = api.run(_goatcounter())
    before = snapshot(api.app, api.site)

    # When the same file is uploaded again
    again = api.run(_goatcounter(), "renamed.csv")

    # Then it fails as already imported, and nothing doubled
    assert again["state"] == "failed"
    assert "already imported" in again["errors"][0]["problem"]
    assert snapshot(api.app, api.site) == before
    # When it is uploaded with replace
    replaced = api.run(_goatcounter(), "renamed.csv", replace="true")
    # Then the earlier import is taken out and the counts are the same, once
    assert replaced["state"] == "done", replaced
    assert replaced["replaced"] == first["import_id"]
    assert snapshot(api.app, api.site) == before
    assert [run.id for run in imports_of(api.app, api.site)] == [replaced["import_id"]]


def test_should_delete_an_import_and_its_counts(api: Api) -> None:
    job = api.run(_goatcounter())
    assert snapshot(api.app, api.site)["totals"] != []

    assert api.call("DELETE", f"/{job['id']}").status_code == 204

    assert snapshot(api.app, api.site) == {
        "hourly": [],
        "daily": [],
        "monthly": [],
        "dimensions": [],
        "page_dimensions": [],
        "totals": [],
    }
    assert imports_of(api.app, api.site) == []
    assert api.call("GET").get_json() == []
    assert api.call("DELETE", f"/{job['id']}").status_code == 404
    assert api.call("GET", f"/{job['id']}").status_code == 404


def test_should_skip_bad_rows_when_asked_and_report_them(api: Api) -> None:
    text = goatcounter_text(sample_views()) + "/x,T,maybe,UA,,,s,0,,,,,1,2025-03-02T10:00:00Z\r\n"

    job = api.run(text.encode(), skip_bad_rows="true")

    assert job["state"] == "done", job
    assert (job["rows"], job["rows_skipped"], job["pageviews"]) == (10, 1, 7)
    assert [(e["line"], e["column"]) for e in job["errors"]] == [(11, "3 (Event)")]


def test_should_import_plausible_and_busuanzi_uploads(api: Api) -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr(
            "imported_visitors_20250301_20250302.csv",
            '"date","visitors","pageviews","bounces","visits","visit_duration"\n'
            "2025-03-01,3,5,1,3,60\n2025-03-02,2,4,0,2,30\n",
        )
    plausible = api.run(archive.getvalue(), "plausible.zip", source="plausible")
    busuanzi = api.run(
        b"url,page_pv,page_uv\nhttps://blog.example/old,40,10\n",
        "counts.csv",
        source="busuanzi",
        site_pv="100",
    )

    assert (plausible["state"], plausible["pageviews"]) == ("done", 9)
    assert (busuanzi["state"], busuanzi["pageviews"]) == ("done", 40)
    totals = {path: views for path, views, _ in snapshot(api.app, api.site)["totals"]}
    assert totals["(site)"] == 9 + 100
    assert totals["/old"] == 40


@pytest.fixture
def limited(api: Api, clean_database: str, make_app: Callable[..., Flask]) -> Api:
    """The same site and owner through a web process that takes 64 KiB at most."""
    small = make_app(
        DATABASE_URL=clean_database, IMPORT_DIR=str(api.import_dir), IMPORT_MAX_BYTES="65536"
    )
    return Api(small, small.test_client(), api.site, api.token, api.import_dir)


def _over_64_kib() -> bytes:
    return _goatcounter([GoatView("/", sample_views()[0].at, f"s{n}") for n in range(2000)])


def test_should_refuse_a_file_over_the_limit_and_keep_nothing(limited: Api) -> None:
    answer = limited.upload(_over_64_kib())

    assert (answer.status_code, answer.get_json()["code"]) == (413, 413)
    assert limited.uploads_left() == []
    assert limited.call("GET").get_json() == []
    # And a file within the limit is taken
    assert limited.run(_goatcounter())["state"] == "done"


# werkzeug leaves the spooled file of a part it stopped reading to the garbage collector
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_should_refuse_a_chunked_body_over_the_limit(limited: Api) -> None:
    body = multipart({"source": "goatcounter"}, _over_64_kib(), "big.csv")

    # When the body comes in chunks (no Content-Length)
    answer = limited.call(
        "POST",
        input_stream=io.BytesIO(body),
        headers={
            "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
            "Transfer-Encoding": "chunked",
        },
        environ_overrides={"wsgi.input_terminated": True},  # as a server passes chunks on
    )
    gc.collect()

    assert answer.status_code == 413, answer.get_data(as_text=True)
    assert limited.uploads_left() == []
    assert limited.call("GET").get_json() == []


@pytest.mark.parametrize(
    ("form", "status", "field"),
    [
        pytest.param({"source": "matomo"}, 400, "form.source", id="unknown source"),
        pytest.param({"replace": "perhaps"}, 400, "form.replace", id="not a bool"),
        pytest.param({"site_pv": "-1"}, 400, "form.site_pv", id="negative"),
        pytest.param({"colour": "red"}, 400, "form.colour", id="unknown field"),
    ],
)
def test_should_refuse_a_bad_form_with_the_field_named(
    api: Api, form: dict[str, str], status: int, field: str
) -> None:
    answer = api.upload(_goatcounter(), **form)

    assert answer.status_code == status
    assert field in [item["field"] for item in answer.get_json()["details"]]
    assert api.call("GET").get_json() == []
    assert api.uploads_left() == []


def test_should_refuse_a_body_without_a_file_or_not_multipart(api: Api) -> None:
    no_file = api.call("POST", data={"source": "goatcounter"}, content_type="multipart/form-data")
    as_json = api.call("POST", json={"source": "goatcounter"})

    assert no_file.status_code == 400
    assert no_file.get_json()["details"][0]["field"] == "form.file"
    assert as_json.status_code == 415
    assert api.call("GET").get_json() == []


def test_should_run_imports_on_the_celery_worker_in_redis_mode(redis_api: Api) -> None:
    # When an owner uploads a good file and a malformed one
    good = redis_api.run(_goatcounter())
    bad = redis_api.run(f"{GOATCOUNTER_HEADER}\r\n/,T,0\r\n".encode(), "bad.csv")

    # Then the worker imported the one and failed the other with its line
    assert (good["state"], good["pageviews"]) == ("done", 7), good
    assert (bad["state"], bad["errors"][0]["line"]) == ("failed", 2)
    assert ("(site)", 7, 4) in snapshot(redis_api.app, redis_api.site)["totals"]
    assert tasks.THREADS.get(redis_api.app) == set()  # not in the web process
    assert redis_api.uploads_left() == []
    # And deleting takes the counts out again
    assert redis_api.call("DELETE", f"/{good['id']}").status_code == 204
    assert snapshot(redis_api.app, redis_api.site)["totals"] == []


class _Stalling:
    """An importer that stops after ``after`` rows until ``go_on`` is set: its runner
    sends no heartbeat meanwhile, as if its process had died."""

    def __init__(self, inner: Any, after: int) -> None:
        self.inner = inner
        self.after = after
        self.stalled = threading.Event()
        self.go_on = threading.Event()
        self.ended = threading.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def rows(self) -> Iterator[Any]:
        try:
            for number, row in enumerate(self.inner.rows(), start=1):
                if number == self.after + 1:
                    self.stalled.set()
                    self.go_on.wait(30)
                yield row
        finally:
            self.ended.set()


@pytest.fixture
def stalling(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[_Stalling]]:
    """The importers of the jobs that run: each stalls after its first chunk (20 000
    rows), released at the end of the test at the latest."""
    made: list[_Stalling] = []
    real = jobs.importer_for

    def stall_after_a_chunk(job: Any, path: Path, hosts: set[str]) -> Any:
        made.append(_Stalling(real(job, path, hosts), after=20_000))
        return made[-1]

    monkeypatch.setattr(jobs, "importer_for", stall_after_a_chunk)
    yield made
    for importer in made:
        importer.go_on.set()


@pytest.fixture(params=["embedded", "redis"])
def short_lease(
    request: pytest.FixtureRequest,
    clean_database: str,
    make_app: Callable[..., Flask],
    tmp_path: Path,
) -> Iterator[Api]:
    """Either mode, with a lease of 0.3 s."""
    folder = tmp_path / "uploads"
    settings = {"DATABASE_URL": clean_database, "IMPORT_DIR": str(folder),
                "IMPORT_LEASE_SECONDS": "0.3"}  # fmt: skip
    if request.param == "embedded":
        yield _api(make_app(**settings), folder)
        return
    prefix = request.getfixturevalue("redis_prefix")
    app = make_app(**settings, REDIS_URL=request.getfixturevalue("redis_url"),
                   REDIS_KEY_PREFIX=prefix)  # fmt: skip
    celery = CELERY.get(app)
    celery.conf.task_default_queue = f"{prefix}celery"
    with start_worker(celery, pool="solo", perform_ping_check=False, shutdown_timeout=20):
        yield _api(app, folder)


def _a_chunk_and_more() -> bytes:
    start = sample_views()[0].at
    return _goatcounter([GoatView(f"/p{n % 50}", start + timedelta(minutes=n // 100), f"s{n}")
                         for n in range(20_100)])  # fmt: skip


def _until(get: Callable[[], dict[str, Any]], state: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    job = get()
    while job["state"] != state and time.monotonic() < deadline:
        time.sleep(0.05)
        job = get()
    return job


def test_should_let_a_job_whose_runner_stopped_be_deleted_once_its_lease_ran_out(
    short_lease: Api, stalling: list[_Stalling]
) -> None:
    api = short_lease
    # Given a job whose runner committed a chunk and then sent no more heartbeats
    answer = api.upload(_a_chunk_and_more())
    job_id = answer.get_json()["id"]
    assert stalling_started(stalling)
    assert snapshot(api.app, api.site)["totals"] != []

    # When its lease has run out
    job = _until(lambda: api.call("GET", f"/{job_id}").get_json(), "failed")

    # Then it is shown failed, as abandoned, and so is its import in the CLI
    assert (job["state"], job["abandoned"]) == ("failed", True)
    assert job["errors"][0]["problem"].startswith("abandoned: the process running it stopped")
    assert "abandoned" in run_cli(api.app, "imports", "list", api.site).output
    # And deleting it takes out the chunk it committed
    assert api.call("DELETE", f"/{job_id}").status_code == 204
    assert snapshot(api.app, api.site)["totals"] == []
    assert imports_of(api.app, api.site) == []
    # And when the stalled runner wakes up, it finds its job gone and writes nothing
    stalling[0].go_on.set()
    assert stalling[0].ended.wait(30)
    tasks.wait(api.app, 30)
    assert api.call("GET", f"/{job_id}").status_code == 404
    assert snapshot(api.app, api.site)["totals"] == []
    assert imports_of(api.app, api.site) == []


def stalling_started(stalling: list[_Stalling]) -> bool:
    deadline = time.monotonic() + 30
    while not stalling and time.monotonic() < deadline:
        time.sleep(0.01)
    return bool(stalling) and stalling[0].stalled.wait(30)


def test_should_refuse_to_delete_a_job_whose_runner_is_alive(
    api: Api, stalling: list[_Stalling]
) -> None:
    # Given a running job (the default lease: a minute)
    job_id = api.upload(_a_chunk_and_more()).get_json()["id"]
    assert stalling_started(stalling)

    # When it is deleted, then that is refused, and it goes on running
    answer = api.call("DELETE", f"/{job_id}")
    assert (answer.status_code, answer.get_json()["code"]) == (409, 409)
    running = api.call("GET", f"/{job_id}").get_json()
    assert (running["state"], running["abandoned"]) == ("running", False)
    assert "running" in run_cli(api.app, "imports", "list", api.site).output
    # And once it is done, it can be deleted
    stalling[0].go_on.set()
    assert api.finished(job_id)["state"] == "done"
    assert api.call("DELETE", f"/{job_id}").status_code == 204


def test_should_show_a_job_left_running_by_an_older_version_as_abandoned(api: Api) -> None:
    # Given a job running before leases existed (no lease at all)
    with api.app.app_context():
        session = get_session()
        job = jobs.create_job(session, api.site, "goatcounter", "old.csv", "gone.csv", 10, {}, None)
        job.state = "running"
        session.commit()
        job_id = job.id

    shown = api.call("GET", f"/{job_id}").get_json()

    assert (shown["state"], shown["abandoned"]) == ("failed", True)
    assert api.call("DELETE", f"/{job_id}").status_code == 204
    assert api.call("GET").get_json() == []
