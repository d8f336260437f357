"""Both ways into the ingest routes answer alike: the lean WSGI path in front of Flask and
the Flask views get the same requests and must give the same status, headers and body."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from flask import Flask
from werkzeug.test import Client, TestResponse

from page_tracker.db import get_session
from page_tracker.lean_path import LeanPath
from page_tracker.sites.services import create_site

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

READER = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)
SITE = "SITE"  # replaced by the test site's id


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    url: str
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    status: int = 202
    reason: str = "accepted"
    through_flask: bool = False  # the lean path hands it to Flask
    environ: dict[str, str] = field(default_factory=dict)


def hits(
    name: str,
    body: object,
    status: int = 202,
    reason: str = "accepted",
    *,
    through_flask: bool = False,
    environ: dict[str, str] | None = None,
    **headers: str,
) -> Case:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": "text/plain", **headers}
    path = "/api/v1/hits"
    return Case(name, "POST", path, data, headers, status, reason, through_flask, environ or {})


def pixel(name: str, query: str, reason: str = "accepted", **headers: str) -> Case:
    return Case(name, "GET", f"/count.gif?{query}", None, headers, 200, reason)


GOOD = {"site": SITE, "url": "https://example.com/post?utm_source=news", "title": "Post"}
CASES = [
    hits("good text/plain", GOOD),
    hits("good application/json", GOOD, **{"Content-Type": "application/json"}),
    hits(
        "every field",
        {
            **GOOD,
            "referrer": "https://news.ycombinator.com/",
            "screen": "390x844",
            "event": "signup",
        },
    ),
    hits("malformed JSON", b"{not json", 400, "malformed"),
    hits("not an object", b"[1, 2]", 400, "malformed"),
    # werkzeug's test client leaves out a Content-Length of 0: set it in the environ
    hits("empty body", b"", 400, "malformed", environ={"CONTENT_LENGTH": "0"}),
    # no Content-Length (as a chunked body has none): the lean path hands it on
    hits("body of unknown length", b"", 400, "malformed"),
    hits("url of the wrong type", {"site": SITE, "url": 5}, 400, "malformed"),
    hits("title of the wrong type", {**GOOD, "title": ["x"]}, 400, "malformed"),
    hits("no site", {"url": "https://example.com/"}, 400, "malformed"),
    hits("not an http URL", {"site": SITE, "url": "javascript:alert(1)"}, 400, "malformed"),
    hits("empty event", {**GOOD, "event": ""}, 400, "malformed"),
    hits("unknown site", {**GOOD, "site": "zzzzzzzzzzzz"}, 202, "unknown-site"),
    hits("host not allowed", {**GOOD, "url": "https://evil.example.net/"}, 202, "host-not-allowed"),
    hits(
        "bot", GOOD, 202, "bot", **{"User-Agent": "Googlebot/2.1 (+http://www.google.com/bot.html)"}
    ),
    hits("do not track", GOOD, 202, "dnt", DNT="1"),
    hits("too large", {**GOOD, "title": "x" * 9000}, 413, "malformed"),
    pixel("pixel", f"site={SITE}&url=https://example.com/p&referrer=https://duckduckgo.com/"),
    pixel("pixel, url from the Referer", f"site={SITE}", Referer="https://example.com/q"),
    pixel("pixel without a site", "url=https://example.com/p", "malformed"),
    pixel(
        "pixel of an unknown site", "site=nosuchsite00&url=https://example.com/p", "unknown-site"
    ),
    pixel(
        "pixel of a bot",
        f"site={SITE}&url=https://example.com/p",
        "bot",
        **{"User-Agent": "curl/8.4.0"},
    ),
    pixel(
        "pixel with bad percent-encoding", f"site={SITE}&url=https://example.com/%ff%fe", "accepted"
    ),
]


class Recorder:
    """Flask's own WSGI app, noting which requests reached it."""

    def __init__(self, flask_wsgi: WSGIApplication) -> None:
        self.flask_wsgi = flask_wsgi
        self.paths: list[str] = []

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        self.paths.append(environ["PATH_INFO"])
        return self.flask_wsgi(environ, start_response)


@pytest.fixture
def app(clean_database: str, make_app: Callable[..., Flask]) -> Flask:
    return make_app(DATABASE_URL=clean_database)


@pytest.fixture
def site(app: Flask) -> str:
    with app.app_context():
        session = get_session()
        site_id = create_site(session, "example.com").id
        session.commit()
    return site_id


def send(client: Client, case: Case, site: str, request_id: str) -> TestResponse:
    body = case.body.replace(SITE.encode(), site.encode()) if case.body is not None else None
    return client.open(
        case.url.replace(SITE, site),
        method=case.method,
        data=body,
        headers={"User-Agent": READER, "X-Request-ID": request_id, **case.headers},
        environ_base={"REMOTE_ADDR": "203.0.113.7"},
        environ_overrides=case.environ,
    )


def answer(response: TestResponse) -> tuple[int, list[tuple[str, str]], bytes]:
    headers = sorted((k, v) for k, v in response.headers.items() if k not in {"Date", "Server"})
    return response.status_code, headers, response.get_data()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_should_answer_alike_through_the_lean_path_and_through_flask(
    app: Flask, site: str, case: Case
) -> None:
    # Given Flask's own WSGI app and the lean path in front of it
    assert isinstance(app.wsgi_app, LeanPath)
    flask_only = Recorder(app.wsgi_app.next)
    lean = app.wsgi_app.in_front_of(flask_only)

    # When the same request goes each way
    through_flask = send(Client(flask_only), case, site, "req-both-ways-1")
    through_lean = send(Client(lean), case, site, "req-both-ways-1")

    # Then the answers are the same, and the lean path answered itself unless it must not
    assert answer(through_lean) == answer(through_flask)
    assert flask_only.paths == [case.url.split("?")[0]] * (2 if case.through_flask else 1)
    assert (through_lean.status_code, through_lean.headers["X-Page-Tracker-Reason"]) == (
        case.status,
        case.reason,
    )
    assert through_lean.headers["X-Request-ID"] == "req-both-ways-1"
    if case.status == 400:
        error: Any = json.loads(through_lean.get_data())
        assert set(error) <= {"code", "error_code", "message", "details"}
        assert (error["code"], error["error_code"]) == (400, 40000)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_should_make_a_new_request_id_either_way_when_the_callers_is_unsafe(
    app: Flask, site: str
) -> None:
    assert isinstance(app.wsgi_app, LeanPath)
    flask_only = app.wsgi_app.next
    ids = [
        send(Client(wsgi), CASES[0], site, "not safe: spaces").headers["X-Request-ID"]
        for wsgi in (flask_only, app.wsgi_app)
    ]
    assert all(re.fullmatch(r"[0-9a-f]{32}", request_id) for request_id in ids)
    assert ids[0] != ids[1]


def test_should_log_the_request_id_when_a_hit_is_not_stored_either_way(
    make_app: Callable[..., Flask], tmp_path: Path
) -> None:
    # Given an app whose database does not answer
    app = make_app(DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:1/none")
    assert isinstance(app.wsgi_app, LeanPath)
    body = json.dumps({"site": "abcdefabcdef", "url": "https://example.com/"}).encode()
    headers = {"Content-Type": "text/plain", "User-Agent": READER}

    # When a hit comes the lean way and another through Flask
    lean = Client(app.wsgi_app).post(
        "/api/v1/hits", data=body, headers={**headers, "X-Request-ID": "lean-1"}
    )
    flask = Client(app.wsgi_app.next).post(
        "/api/v1/hits", data=body, headers={**headers, "X-Request-ID": "flask-1"}
    )

    # Then both are answered, and each failure line carries its request's id
    assert [lean.status_code, flask.status_code] == [202, 202]
    lines = (tmp_path / "log" / "error.log").read_text().splitlines()
    for request_id in ("lean-1", "flask-1"):
        assert any(f"[{request_id}]" in line and "hit not stored" in line for line in lines)
