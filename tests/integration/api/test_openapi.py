"""The OpenAPI document is valid OpenAPI 3.1, describes every declared operation (the
``/api/v1`` JSON API and the public routes readers' browsers call), and the live app
keeps to it on SQLite, MariaDB and PostgreSQL: schemathesis sends generated requests
(bounded) to every operation and checks that none is answered 5xx and every answer
matches its documented status, media type, headers and schema; the public routes get
their generated requests a second time aimed at a real site, so that they count. Every
status the public routes document is produced by one request of a table."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from openapi_spec_validator import validate
from schemathesis.config import SchemathesisConfig
from schemathesis.core.deserialization import DeserializationContext
from schemathesis.core.transport import Response
from schemathesis.specs.openapi.schemas import OpenApiSchema

from page_tracker import create_app, migrate
from page_tracker.api.openapi import declared_operations
from page_tracker.app import close_app
from page_tracker.auth.tokens import Scope, issue_token
from page_tracker.db import DATABASE, get_session
from page_tracker.imports import tasks
from page_tracker.settings import load_settings
from page_tracker.sites.services import create_site
from page_tracker.users.memberships import set_member
from page_tracker.users.models import MemberRole, Role
from page_tracker.users.services import create_user
from tests.databases import empty_all_tables

MAX_EXAMPLES = 15  # per operation: enough to find what breaks, quick enough for CI
# On MariaDB and PostgreSQL fewer (the JSON API's answers do not depend on the database
# much; its sign-ins verify a slow hash), but as many for the public routes aimed at the
# live site: they write and read the counts.
SERVER_EXAMPLES = 6
# 34 of the JSON API, 7 of the public routes (Busuanzi's twice: /busuanzi and /).
OPERATIONS = 41
DOMAIN = "site.example"
# The public routes: their generated requests are also sent aimed at the live site.
PUBLIC_ROUTES = {
    "/api/v1/hits",
    "/count.gif",
    "/api/event",
    "/busuanzi",
    "/",
    "/badge/{site_id}.svg",
    "/api/v1/counters/{site_id}",
}
JSON = "application/json"
# Aimed requests come from a reader's browser: schemathesis' own User-Agent is a bot's.
READER = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
TEXT_TYPES = ("application/javascript", "image/svg+xml", "text/plain")


@schemathesis.deserializer(*TEXT_TYPES)
def _text(_ctx: DeserializationContext, response: Response) -> str:
    # Scripts, badges and Plausible's "ok" are text: their documented patterns apply.
    return response.content.decode("utf-8")


@dataclass(frozen=True)
class Live:
    app: Flask
    token: str
    site_id: str
    examples: int  # per operation, not aimed


@pytest.fixture(scope="module")
def docs_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """An app for the document and the docs page (its database stays empty)."""
    folder = tmp_path_factory.mktemp("openapi-docs")
    app = create_app(
        settings=load_settings(
            DATABASE_URL=f"sqlite:///{folder / 'docs.sqlite3'}",
            PAGE_TRACKER_ENV="test",
            LOG_DIR=str(folder / "log"),
        ),
        configure_logging=False,
    )
    yield app
    close_app(app)


@pytest.fixture(scope="module")
def live_app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """An app on the session's database of each kind, with an admin, their all-scopes
    token and a site with public counters; the database is emptied afterwards."""
    folder = tmp_path_factory.mktemp("openapi")
    settings_ = load_settings(
        DATABASE_URL=database_url,
        PAGE_TRACKER_ENV="test",
        LOG_DIR=str(folder / "log"),
        # Generated sign-ins must not trip the sign-in limits: a replayed example would
        # then meet a 429 it did not meet the first time, which hypothesis reports as
        # "unreliable" (the limits have their own tests in test_auth.py).
        LOGIN_LIMITS_PER_ADDRESS="100000/minute",
        LOGIN_LIMITS_PER_ACCOUNT="100000/minute",
        # Likewise the reader limit of the tracking routes (test_rate_limit.py).
        INGEST_RATE_LIMIT="off",
        # Likewise nothing else may hold SQLite's write lock or the pool while an example
        # runs (on a loaded machine a 503 on the first call and a 2xx on the replay were
        # "unreliable"): no periodic jobs in this process, and a pool wait long enough
        # for the group-commit writer. Busy answers have their own tests.
        EMBEDDED_JOBS="false",
        DB_POOL_TIMEOUT="30",
    )
    app = create_app(settings=settings_, configure_logging=False)
    with app.app_context():
        migrate.upgrade(DATABASE.get(app).engine)
        session = get_session()
        admin = create_user(session, "admin@example.com", "correct horse", role=Role.ADMIN)
        site = create_site(session, DOMAIN, public_counters=True)
        set_member(session, site.id, admin, MemberRole.OWNER)
        _, token = issue_token(
            session, admin, (Scope.READ, Scope.WRITE, Scope.ADMIN), expires_in=timedelta(days=1)
        )
        session.commit()
        site_id = site.id
    examples = MAX_EXAMPLES if database_url.startswith("sqlite") else SERVER_EXAMPLES
    yield Live(app, token, site_id, examples)
    close_app(app)
    empty_all_tables(database_url)


@pytest.fixture(scope="module")
def api_schema(live_app: Live) -> OpenApiSchema:
    # 422 answers a well-formed request the current state refuses (a member's unknown
    # email): valid data, rightly not accepted. 404: a generated id no row has (a site,
    # a user) or a page on a host no site counts (Busuanzi).
    config = SchemathesisConfig.from_dict(
        {
            "checks": {
                "positive_data_acceptance": {
                    "expected-statuses": ["2xx", "304", "401", "403", "404", "409", "422", "429"]
                }
            }
        }
    )
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", live_app.app, config=config)


def test_should_publish_a_valid_openapi_31_document(docs_app: Flask) -> None:
    document = docs_app.test_client().get("/api/v1/openapi.json").get_json()
    assert document["openapi"] == "3.1.0"
    validate(document)
    documented = {
        (method, path) for path, operations in document["paths"].items() for method in operations
    }
    declared = {(item.method.lower(), item.rule) for item in declared_operations(docs_app)}
    assert len(documented) == len(declared) == OPERATIONS


def test_should_document_the_public_routes_with_their_media_types(docs_app: Flask) -> None:
    paths = docs_app.test_client().get("/api/v1/openapi.json").get_json()["paths"]

    def media_types(path: str, method: str, status: str) -> set[str]:
        return set(paths[path][method]["responses"][status].get("content", {}))

    assert media_types("/count.gif", "get", "200") == {"image/gif"}
    assert media_types("/busuanzi", "get", "200") == {"application/javascript"}
    assert paths["/"]["get"]["parameters"] == paths["/busuanzi"]["get"]["parameters"]
    assert media_types("/badge/{site_id}.svg", "get", "200") == {"image/svg+xml"}
    assert media_types("/api/event", "post", "202") == {"text/plain"}
    assert set(paths["/api/event"]["post"]["requestBody"]["content"]) == {
        "text/plain",
        "application/json",
    }
    for path, method in [("/api/event", "post"), ("/busuanzi", "get"), ("/api/v1/hits", "post")]:
        for status, answer in paths[path][method]["responses"].items():
            if status.startswith("4"):  # refusals: the one JSON error shape
                assert set(answer["content"]) == {"application/json"}, (path, status)


def test_should_serve_the_interactive_docs_without_a_cdn(docs_app: Flask) -> None:
    client = docs_app.test_client()
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "http" not in html  # every asset is ours
    for asset in ("swagger-ui/swagger-ui-bundle.js", "swagger-ui/swagger-ui.css", "docs.js"):
        with client.get(f"/api/v1/docs/static/{asset}") as answer:
            assert answer.status_code == 200, asset


CURRENT_ETAG = "(the ETag of the answer without If-None-Match)"


def _status_table(live: Live) -> list[tuple[str, str, dict[str, Any], int]]:
    """(path, method, request, status): one request for every status a public route
    documents."""
    site, page, elsewhere = live.site_id, f"https://{DOMAIN}/post", "https://nosite.example/"
    hit, event = {"site": site, "url": page}, {"n": "pageview", "u": page, "d": DOMAIN}
    other_site = {"site_id": "0" * len(site)}
    xml = {"Content-Type": "application/xml"}
    rows: list[tuple[str, str, dict[str, Any], int]] = [
        ("/pt.js", "GET", {}, 200),
        ("/pt.js", "GET", {"headers": {"If-None-Match": CURRENT_ETAG}}, 304),
        ("/count.gif", "GET", {"query": {"site": site, "url": page}}, 200),
        ("/api/v1/hits", "POST", {"body": hit, "media_type": "text/plain"}, 202),
        ("/api/v1/hits", "POST", {"body": "{", "media_type": "text/plain"}, 400),
        ("/api/v1/hits", "POST", {"body": "x" * 9000, "media_type": "text/plain"}, 413),
        ("/api/v1/hits", "POST", {"body": hit, "media_type": JSON, "headers": xml}, 415),
        ("/api/event", "POST", {"body": event, "media_type": "text/plain"}, 202),
        ("/api/event", "POST", {"body": {"n": "pageview"}, "media_type": "text/plain"}, 400),
        ("/api/event", "POST", {"body": "x" * 17000, "media_type": "text/plain"}, 413),
        ("/api/event", "POST", {"body": event, "media_type": JSON, "headers": xml}, 415),
        ("/busuanzi/2.3/busuanzi.pure.mini.js", "GET", {}, 200),
        ("/busuanzi/2.3/busuanzi.pure.mini.js", "GET", {"headers": {"Host": 'x"+1+"'}}, 400),
    ]
    for path in ("/busuanzi", "/"):
        rows += [
            (path, "GET", {"query": {"jsonpCallback": "cb"}, "headers": {"Referer": page}}, 200),
            (path, "GET", {"query": {"jsonpCallback": "if"}, "headers": {"Referer": page}}, 400),
            (
                path,
                "GET",
                {"query": {"jsonpCallback": "cb"}, "headers": {"Referer": elsewhere}},
                404,
            ),
        ]
    for path in ("/badge/{site_id}.svg", "/api/v1/counters/{site_id}"):
        rows += [
            (path, "GET", {"path_parameters": {"site_id": site}}, 200),
            (
                path,
                "GET",
                {"path_parameters": {"site_id": site}, "headers": {"If-None-Match": CURRENT_ETAG}},
                304,
            ),
            (path, "GET", {"path_parameters": {"site_id": site}, "query": {"path": "x"}}, 400),
            (path, "GET", {"path_parameters": other_site}, 404),
        ]
    return rows


def test_should_produce_every_status_the_public_routes_document(
    api_schema: OpenApiSchema, live_app: Live
) -> None:
    # Given one request per status of the table, for every status the routes document
    rows = _status_table(live_app)
    documented = {
        (path, method, int(status))
        for path, method, _, _ in rows
        for status in api_schema[path][method].definition.raw["responses"]
    }
    assert {(path, method, status) for path, method, _, status in rows} == documented
    for path, method, request, status in rows:
        # When it is sent
        headers = dict(request.get("headers", {}))
        case = api_schema[path][method].Case(
            **{key: value for key, value in request.items() if key != "headers"}
        )
        if headers.get("If-None-Match") == CURRENT_ETAG:
            headers["If-None-Match"] = case.call().headers["etag"][0]
        response = case.call(headers=headers)
        # Then it gets that status, in the documented media type, headers and schema
        assert response.status_code == status, (path, request, response.text)
        case.validate_response(response, headers=headers)


def _on_site(url: Any) -> Any:
    """A generated page URL moved to the live site's host (path and query kept)."""
    if not isinstance(url, str):
        return url
    return re.sub(r"^https?://[^/]*", f"https://{DOMAIN}", url)


def _aim(case: schemathesis.Case, live: Live) -> None:
    """Point a generated request of a public route at the live site, so that it counts
    (or reads real counters) instead of meeting an unknown site."""
    path = case.operation.path
    if "site_id" in (case.path_parameters or {}):
        case.path_parameters = {**(case.path_parameters or {}), "site_id": live.site_id}
    if path == "/count.gif":
        url = _on_site((case.query or {}).get("url") or f"https://{DOMAIN}/")
        case.query = {**(case.query or {}), "site": live.site_id, "url": url}
    elif path == "/api/v1/hits" and isinstance(case.body, dict):
        case.body = {**case.body, "site": live.site_id, "url": _on_site(case.body["url"])}
    elif path == "/api/event" and isinstance(case.body, dict):
        case.body = {**case.body, "d": DOMAIN, "u": _on_site(case.body["u"])}
    elif path in {"/busuanzi", "/"}:
        case.headers = {**(case.headers or {}), "Referer": _on_site(case.headers["Referer"])}


def _keep_to_it(
    api_schema: OpenApiSchema, live: Live, aimed: bool, examples: int
) -> tuple[list[str], list[str]]:
    """Run every operation's generated examples (``aimed``: only the public routes',
    pointed at the live site); the operations run and the failures."""
    headers = {"Authorization": f"Bearer {live.token}"}
    if aimed:
        headers["User-Agent"] = READER
    failures: list[str] = []
    labels: list[str] = []
    for result in api_schema.get_all_operations():
        operation = result.ok()
        if aimed and operation.path not in PUBLIC_ROUTES:
            continue
        labels.append(operation.label)

        @given(case=operation.as_strategy())
        @settings(
            max_examples=examples,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def keeps_to_it(case: schemathesis.Case) -> None:
            if aimed:
                _aim(case, live)
            case.call_and_validate(headers=headers)
            # An accepted upload is imported by a thread of the app: let it end before
            # the next request, so that no example meets another's write lock (SQLite).
            assert tasks.wait(live.app, 30)

        try:
            keeps_to_it()
        except Exception as error:
            failures.append(f"{operation.label}{' (aimed)' if aimed else ''}: {error}")
    return labels, failures


# 41 operations x MAX_EXAMPLES requests, sign-ins with a slow password hash among them,
# then the public routes' again: over a minute on a loaded machine (the folder's
# default is 60 s).
@pytest.mark.timeout(420)
def test_should_keep_to_the_document(api_schema: OpenApiSchema, live_app: Live) -> None:
    # One test walking the operations: schemathesis' pytest plugin (from_fixture) does
    # not run on pytest 9 yet; the checks are the same (call_and_validate).
    labels, failures = _keep_to_it(api_schema, live_app, aimed=False, examples=live_app.examples)
    assert len(labels) == OPERATIONS
    aimed, aimed_failures = _keep_to_it(api_schema, live_app, aimed=True, examples=MAX_EXAMPLES)
    assert len(aimed) == len(PUBLIC_ROUTES)
    failures += aimed_failures
    assert not failures, "\n\n".join(failures)
