"""The OpenAPI document is valid OpenAPI 3.1, describes every declared operation, and the
live app keeps to it: schemathesis sends generated requests (bounded) to every operation
and checks that none is answered 5xx and every answer matches its documented status,
content type and schema."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from openapi_spec_validator import validate
from schemathesis.config import SchemathesisConfig
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

MAX_EXAMPLES = 15  # per operation: enough to find what breaks, quick enough for CI


@pytest.fixture(scope="module")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, str]]:
    """An app on a fresh SQLite database with an admin, their all-scopes token and a site."""
    folder = tmp_path_factory.mktemp("openapi")
    settings_ = load_settings(
        DATABASE_URL=f"sqlite:///{folder / 'api.sqlite3'}",
        PAGE_TRACKER_ENV="test",
        LOG_DIR=str(folder / "log"),
        # Generated sign-ins must not trip the sign-in limits: a replayed example would
        # then meet a 429 it did not meet the first time, which hypothesis reports as
        # "unreliable" (the limits have their own tests in test_auth.py).
        LOGIN_LIMITS_PER_ADDRESS="100000/minute",
        LOGIN_LIMITS_PER_ACCOUNT="100000/minute",
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
        site = create_site(session, "site.example", public_counters=True)
        set_member(session, site.id, admin, MemberRole.OWNER)
        _, token = issue_token(
            session, admin, (Scope.READ, Scope.WRITE, Scope.ADMIN), expires_in=timedelta(days=1)
        )
        session.commit()
    yield app, token
    close_app(app)


@pytest.fixture(scope="module")
def api_schema(live_app: tuple[Flask, str]) -> OpenApiSchema:
    # 422 answers a well-formed request the current state refuses (a member's unknown
    # email): valid data, rightly not accepted.
    config = SchemathesisConfig.from_dict(
        {
            "checks": {
                "positive_data_acceptance": {
                    "expected-statuses": ["2xx", "401", "403", "404", "409", "422", "429"]
                }
            }
        }
    )
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", live_app[0], config=config)


def test_should_publish_a_valid_openapi_31_document(live_app: tuple[Flask, str]) -> None:
    document = live_app[0].test_client().get("/api/v1/openapi.json").get_json()
    assert document["openapi"] == "3.1.0"
    validate(document)
    documented = {
        (method, path) for path, operations in document["paths"].items() for method in operations
    }
    declared = {(method.lower(), rule.rule) for rule, method, _ in declared_operations(live_app[0])}
    assert len(documented) == len(declared) == 34


def test_should_serve_the_interactive_docs_without_a_cdn(live_app: tuple[Flask, str]) -> None:
    client = live_app[0].test_client()
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "http" not in html  # every asset is ours
    for asset in ("swagger-ui/swagger-ui-bundle.js", "swagger-ui/swagger-ui.css", "docs.js"):
        with client.get(f"/api/v1/docs/static/{asset}") as answer:
            assert answer.status_code == 200, asset


# 30 operations x MAX_EXAMPLES requests, sign-ins with a slow password hash among them:
# over a minute on a loaded machine (the folder's default is 60 s).
@pytest.mark.timeout(300)
def test_should_keep_to_the_document(
    api_schema: OpenApiSchema, live_app: tuple[Flask, str]
) -> None:
    # One test walking the operations: schemathesis' pytest plugin (from_fixture) does
    # not run on pytest 9 yet; the checks are the same (call_and_validate).
    headers = {"Authorization": f"Bearer {live_app[1]}"}
    failures: list[str] = []
    labels: list[str] = []
    for result in api_schema.get_all_operations():
        operation = result.ok()
        labels.append(operation.label)

        @given(case=operation.as_strategy())
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def keeps_to_it(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=headers)
            # An accepted upload is imported by a thread of the app: let it end before
            # the next request, so that no example meets another's write lock (SQLite).
            assert tasks.wait(live_app[0], 30)

        try:
            keeps_to_it()
        except Exception as error:
            failures.append(f"{operation.label}: {error}")
    assert len(labels) == 34
    assert not failures, "\n\n".join(failures)
