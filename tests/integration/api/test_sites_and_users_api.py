"""The sites, members and users endpoints on each database: what they change, and what
they refuse (in the error shape, changing nothing)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from page_tracker.db import get_session
from page_tracker.sites.services import list_sites
from page_tracker.users.models import Role
from page_tracker.users.services import create_user

PASSWORD = "correct horse"


class Api:
    """A test client signed in with a bearer token of one account."""

    def __init__(self, client: FlaskClient, email: str, scopes: list[str]) -> None:
        answer = client.post(
            "/api/v1/tokens", json={"email": email, "password": PASSWORD, "scopes": scopes}
        )
        assert answer.status_code == 201, answer.get_json()
        self.client = client
        self.headers = {"Authorization": f"Bearer {answer.get_json()['token']}"}

    def __call__(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        answer = self.client.open(f"/api/v1{path}", method=method, json=body, headers=self.headers)
        return answer.status_code, answer.get_json(silent=True)


def _app(make_app: Callable[..., Flask], database_url: str) -> Flask:
    app = make_app(DATABASE_URL=database_url)
    with app.app_context():
        session = get_session()
        create_user(session, "root@example.com", PASSWORD, role=Role.ADMIN)
        create_user(session, "ann@example.com", PASSWORD, name="Ann")
        create_user(session, "bob@example.com", PASSWORD)
        session.commit()
    return app


def test_should_manage_sites_members_and_users_through_the_api(
    clean_database: str, make_app: Callable[..., Flask]
) -> None:
    app = _app(make_app, clean_database)
    ann = Api(app.test_client(), "ann@example.com", ["read", "write"])
    bob = Api(app.test_client(), "bob@example.com", ["read", "write"])
    root = Api(app.test_client(), "root@example.com", ["admin"])

    status, site = ann("POST", "/sites", {"domain": "Ann.Example", "hosts": ["blog.ann.example"]})
    assert status == 201
    assert (site["domain"], site["hosts"], site["role"]) == (
        "ann.example",
        ["blog.ann.example"],
        "owner",
    )
    # (MariaDB keeps whole seconds of created_at)
    assert [{**s, "created_at": None} for s in ann("GET", "/sites")[1]] == [
        {**site, "created_at": None}
    ]
    assert bob("GET", "/sites") == (200, [])
    assert bob("GET", f"/sites/{site['id']}")[0] == 404

    status, member = ann("POST", f"/sites/{site['id']}/members", {"email": "BOB@example.com"})
    assert (status, member["role"]) == (201, "viewer")
    assert [s["role"] for s in bob("GET", "/sites")[1]] == ["viewer"]
    assert bob("PATCH", f"/sites/{site['id']}", {"public_counters": True})[0] == 403

    status, changed = ann(
        "PATCH", f"/sites/{site['id']}", {"hosts": ["shop.ann.example"], "retention_days": 30}
    )
    assert status == 200
    assert (changed["hosts"], changed["retention_days"]) == (["shop.ann.example"], 30)

    # the last owner stays; a second owner may then leave
    bob_id = member["user_id"]
    ann_id = ann("GET", "/session")[1]["user_id"]
    assert ann("DELETE", f"/sites/{site['id']}/members/{ann_id}")[0] == 409
    assert (
        ann("POST", f"/sites/{site['id']}/members", {"email": "bob@example.com", "role": "owner"})[
            0
        ]
        == 201
    )
    assert bob("DELETE", f"/sites/{site['id']}/members/{ann_id}")[0] == 204
    assert ann("GET", f"/sites/{site['id']}")[0] == 404
    assert [m["user_id"] for m in bob("GET", f"/sites/{site['id']}/members")[1]] == [bob_id]

    # users: admins manage, everybody else only themselves, never their own role
    status, users = root("GET", "/users")
    assert [u["email"] for u in users] == ["root@example.com", "ann@example.com", "bob@example.com"]
    assert all("password" not in str(u) for u in users)
    assert ann("PATCH", f"/users/{ann_id}", {"name": "Ann B."})[1]["name"] == "Ann B."
    assert ann("PATCH", f"/users/{ann_id}", {"role": "admin"})[0] == 403
    assert ann("PATCH", f"/users/{ann_id}", {"email": "bob@example.com"})[0] == 409
    assert (
        root("PUT", f"/users/{ann_id}", {"email": "ann@example.org", "name": "A", "role": "admin"})[
            1
        ]["role"]
        == "admin"
    )
    status, created = root("POST", "/users", {"email": "cy@example.com", "password": "long enough"})
    assert (status, created["role"]) == (201, "user")
    assert root("POST", "/users", {"email": "cy@example.com", "password": "long enough"})[0] == 409

    assert root("DELETE", f"/sites/{site['id']}")[0] == 204
    assert bob("GET", "/sites") == (200, [])
    assert root("DELETE", f"/users/{bob_id}")[0] == 204
    assert bob("GET", "/sites")[0] == 401  # its tokens went with it


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", "/sites", {"domain": "not a host"}, 400),
        ("POST", "/sites", {"domain": "x.example", "colour": "red"}, 400),
        ("POST", "/sites", {"domain": "x.example", "retention_days": -1}, 400),
        ("POST", "/sites", {"domain": "taken.example"}, 409),
        ("PATCH", "/sites/{site}", {"hosts": ["taken.example"]}, 409),
        ("POST", "/sites/{site}/members", {"email": "nobody@example.com"}, 422),
        ("POST", "/sites/{site}/members", {"email": "ann@example.com", "role": "boss"}, 400),
        ("DELETE", "/sites/{site}/members/999", None, 404),
        ("GET", "/sites/NOT-A-SITE-ID-AT-ALL", None, 404),
        ("POST", "/users", {"email": "x@example.com", "password": "short"}, 400),
        ("PUT", "/users/1", {"name": "no email"}, 400),
        ("DELETE", "/users/1", None, 409),  # the last admin
        ("GET", "/users/99999999999", None, 404),  # beyond INTEGER: no route, no 500
        ("PUT", "/sites", None, 405),
    ],
)
def test_should_refuse_bad_requests_and_change_nothing(  # noqa: PLR0917 - parametrized
    clean_database: str,
    make_app: Callable[..., Flask],
    method: str,
    path: str,
    body: Any,
    status: int,
) -> None:
    app = _app(make_app, clean_database)
    root = Api(app.test_client(), "root@example.com", ["admin"])
    site_id = root("POST", "/sites", {"domain": "root.example"})[1]["id"]
    root("POST", "/sites", {"domain": "taken.example"})
    with app.app_context():
        before = [
            (s.id, s.domain, sorted(h.host for h in s.hosts)) for s in list_sites(get_session())
        ]

    answer_status, answer = root(method, path.format(site=site_id), body)
    assert answer_status == status
    assert (answer["code"], answer["error_code"] // 100) == (status, status)
    assert "Traceback" not in str(answer)
    if status == 405:
        return
    with app.app_context():
        after = [
            (s.id, s.domain, sorted(h.host for h in s.hosts)) for s in list_sites(get_session())
        ]
    assert after == before
