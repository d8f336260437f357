"""Sign-ins, tokens, browser sessions, login limits and the audit log, on each database
and (for the limits) in both modes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from page_tracker.auth import limits
from page_tracker.auth.models import ApiToken, AuditEvent
from page_tracker.auth.principal import CSRF_HEADER
from page_tracker.db import get_session
from page_tracker.users.models import Role
from page_tracker.users.services import create_user, update_user, user_by_email

PASSWORD = "correct horse"


def _app_with_users(make_app: Callable[..., Flask], **env: str) -> Flask:
    app = make_app(**env)
    with app.app_context():
        session = get_session()
        create_user(session, "admin@example.com", PASSWORD, role=Role.ADMIN)
        create_user(session, "user@example.com", PASSWORD)
        session.commit()
    return app


def _token(client: FlaskClient, email: str, **extra: object) -> str:
    answer = client.post("/api/v1/tokens", json={"email": email, "password": PASSWORD, **extra})
    assert answer.status_code == 201, answer.get_json()
    token: str = answer.get_json()["token"]
    return token


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_should_issue_a_token_once_keep_only_its_hash_and_revoke_it(
    clean_database: str, make_app: Callable[..., Flask]
) -> None:
    app = _app_with_users(make_app, DATABASE_URL=clean_database)
    client = app.test_client()

    created = client.post(
        "/api/v1/tokens",
        json={"email": "USER@example.com", "password": PASSWORD, "name": "ci", "scopes": ["read"]},
    )
    assert created.status_code == 201
    body = created.get_json()
    token = body["token"]
    assert token.startswith("pt_")
    assert len(token) > 40
    assert body["prefix"] == token[:9]
    assert body["scopes"] == ["read"]
    assert datetime.fromisoformat(body["expires_at"]) > datetime.now(UTC) + timedelta(days=89)

    listed = client.get("/api/v1/tokens", headers=_bearer(token))
    assert listed.status_code == 200
    [shown] = listed.get_json()
    assert "token" not in shown
    assert (shown["prefix"], shown["name"]) == (token[:9], "ci")
    assert shown["last_used_at"] is not None
    with app.app_context():
        stored = get_session().scalars(select(ApiToken)).one()
        assert token not in {stored.token_hash, stored.prefix}

    # read scope: may read, not revoke; a write token revokes it
    refused = client.delete(f"/api/v1/tokens/{body['id']}", headers=_bearer(token))
    assert refused.status_code == 403
    writer = _token(client, "user@example.com")
    assert client.delete(f"/api/v1/tokens/{body['id']}", headers=_bearer(writer)).status_code == 204
    assert client.get("/api/v1/tokens", headers=_bearer(token)).status_code == 401
    assert client.delete(f"/api/v1/tokens/{body['id']}", headers=_bearer(writer)).status_code == 404

    with app.app_context():
        events = [
            e.event for e in get_session().scalars(select(AuditEvent).order_by(AuditEvent.id))
        ]
    assert events == [
        "sign-in",
        "token-created",
        "token-used",
        "sign-in",
        "token-created",
        "token-used",
        "token-revoked",
    ]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_should_refuse_bad_credentials_and_tokens(
    clean_database: str, make_app: Callable[..., Flask]
) -> None:
    app = _app_with_users(make_app, DATABASE_URL=clean_database)
    client = app.test_client()

    for email, password in [("user@example.com", "wrong"), ("nobody@example.com", PASSWORD)]:
        answer = client.post("/api/v1/tokens", json={"email": email, "password": password})
        assert answer.status_code == 401
        assert answer.get_json()["message"] == "wrong email or password"
    user_asks_admin = client.post(
        "/api/v1/tokens",
        json={"email": "user@example.com", "password": PASSWORD, "scopes": ["admin"]},
    )
    assert user_asks_admin.status_code == 403
    assert _token(client, "admin@example.com", scopes=["admin"])

    token = _token(client, "user@example.com")
    with app.app_context():
        session = get_session()
        session.execute(
            update(ApiToken).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        session.commit()
    for header in (f"Bearer {token}", "Bearer pt_unknown", "Basic dXNlcjpwdw==", "Bearer "):
        answer = client.get("/api/v1/tokens", headers={"Authorization": header})
        assert answer.status_code == 401, header
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/api/v1/tokens").status_code == 401

    with app.app_context():
        failed = (
            get_session()
            .scalars(select(AuditEvent).where(AuditEvent.event == "sign-in-failed"))
            .all()
        )
    assert len(failed) == 2
    assert {event.address for event in failed} != {"127.0.0.1"}
    assert all(len(event.address) == 16 for event in failed)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("request_kwargs", "status", "message"),
    [
        ({"data": "email=a", "content_type": "application/x-www-form-urlencoded"}, 415, "json"),
        ({"data": "{not json", "content_type": "application/json"}, 400, "not valid JSON"),
        ({"json": {"email": "a@example.com"}}, 400, "invalid body"),
        ({"json": {"email": "a@example.com", "password": "x", "scopes": ["root"]}}, 400, "invalid"),
        ({"json": {"email": "a@example.com", "password": "x" * 70_000}}, 413, "at most"),
    ],
)
def test_should_answer_bad_bodies_in_the_error_shape_without_echoing_them(
    clean_database: str,
    make_app: Callable[..., Flask],
    request_kwargs: dict[str, object],
    status: int,
    message: str,
) -> None:
    client = make_app(DATABASE_URL=clean_database).test_client()
    answer = client.post("/api/v1/tokens", **request_kwargs)  # type: ignore[arg-type]
    assert answer.status_code == status
    body = answer.get_json()
    assert (body["code"], body["error_code"] // 100) == (status, status)
    assert message in body["message"]
    assert "xxxxxxxx" not in answer.get_data(as_text=True)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_should_keep_a_browser_session_with_csrf_protection(
    clean_database: str, make_app: Callable[..., Flask]
) -> None:
    app = _app_with_users(make_app, DATABASE_URL=clean_database)
    client = app.test_client()
    assert client.get("/api/v1/session").status_code == 401

    signed_in = client.post(
        "/api/v1/session", json={"email": "user@example.com", "password": PASSWORD}
    )
    assert signed_in.status_code == 200
    cookie = signed_in.headers["Set-Cookie"]
    assert cookie.startswith("pt_session=")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    csrf = signed_in.get_json()["csrf_token"]
    me = client.get("/api/v1/session")
    assert me.status_code == 200
    assert me.get_json()["email"] == "user@example.com"
    assert client.get("/api/v1/tokens").status_code == 200  # the cookie authenticates

    # an unsafe method needs the CSRF token besides the cookie
    assert client.delete("/api/v1/tokens/999").status_code == 403
    assert client.delete("/api/v1/tokens/999", headers={CSRF_HEADER: "forged"}).status_code == 403
    assert client.delete("/api/v1/tokens/999", headers={CSRF_HEADER: csrf}).status_code == 404

    # a password change ends the session
    with app.app_context():
        session = get_session()
        update_user(session, user_by_email(session, "user@example.com"), password="new password")
        session.commit()
    assert client.get("/api/v1/session").status_code == 401

    client.post("/api/v1/session", json={"email": "user@example.com", "password": "new password"})
    assert client.delete("/api/v1/session").status_code == 403  # no CSRF: not signed out
    csrf = client.get("/api/v1/session").get_json()["csrf_token"]
    assert client.delete("/api/v1/session", headers={CSRF_HEADER: csrf}).status_code == 204
    assert client.get("/api/v1/session").status_code == 401


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_should_send_the_session_cookie_over_https_only_in_production(
    clean_database: str, make_app: Callable[..., Flask]
) -> None:
    app = _app_with_users(
        make_app,
        DATABASE_URL=clean_database,
        PAGE_TRACKER_ENV="production",
        SECRET_KEY="a-real-production-secret-key",
    )
    answer = app.test_client().post(
        "/api/v1/session",
        json={"email": "user@example.com", "password": PASSWORD},
        base_url="https://tracker.example",
    )
    assert answer.status_code == 200
    assert "Secure" in answer.headers["Set-Cookie"]


def _limited_sign_ins(client: FlaskClient) -> None:
    """Given 2 failures allowed per account and 3 per address per minute."""
    wrong = {"email": "user@example.com", "password": "wrong"}
    assert [client.post("/api/v1/tokens", json=wrong).status_code for _ in range(3)] == [
        401,
        401,
        429,
    ]
    limited = client.post("/api/v1/tokens", json={**wrong, "password": PASSWORD})
    assert limited.status_code == 429  # even the right password, while limited
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert limited.get_json()["code"] == 429
    # Another account from the same address: one more failure fits the address budget.
    other = {"email": "admin@example.com", "password": "wrong"}
    assert client.post("/api/v1/tokens", json=other).status_code == 401
    assert client.post("/api/v1/tokens", json=other).status_code == 429
    # Another address may still sign in to an account that is not limited.
    elsewhere = client.post(
        "/api/v1/session",
        json={"email": "admin@example.com", "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "192.0.2.7"},
    )
    assert elsewhere.status_code == 200


_LIMITS = {"LOGIN_LIMITS_PER_ACCOUNT": "2/minute", "LOGIN_LIMITS_PER_ADDRESS": "3/minute"}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_should_limit_failed_sign_ins_in_memory_in_embedded_mode(
    clean_database: str, make_app: Callable[..., Flask]
) -> None:
    app = _app_with_users(make_app, DATABASE_URL=clean_database, **_LIMITS)
    _limited_sign_ins(app.test_client())


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_should_limit_failed_sign_ins_in_redis_without_addresses_or_emails(
    clean_database: str, make_app: Callable[..., Flask], redis_url: str, redis_prefix: str
) -> None:
    env = {
        "DATABASE_URL": clean_database,
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": redis_prefix,
        "SECRET_KEY": "one key for every web process",  # the keys are HMACs with it
    }
    app = _app_with_users(make_app, **env, **_LIMITS)
    _limited_sign_ins(app.test_client())

    # A second app (another web process) sees the same counters.
    again = make_app(**env, **_LIMITS)
    answer = again.test_client().post(
        "/api/v1/tokens", json={"email": "user@example.com", "password": PASSWORD}
    )
    assert answer.status_code == 429
    client = redis.Redis.from_url(redis_url)
    keys = [key.decode() for key in client.scan_iter(f"*{redis_prefix}*")]
    try:
        assert keys
        assert not any("127.0.0.1" in key or "example.com" in key for key in keys)
    finally:
        if keys:
            client.delete(*keys)
        client.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_should_have_the_limiter_look_at_sign_ins_only(
    clean_database: str, make_app: Callable[..., Flask]
) -> None:
    # Given an app with tight sign-in limits
    app = _app_with_users(make_app, DATABASE_URL=clean_database, **_LIMITS)
    # Then only the sign-in views are looked at by the limiter (no work for others)
    for method, path, exempt in (
        ("POST", "/api/v1/tokens", False),
        ("POST", "/api/v1/session", False),
        ("GET", "/api/v1/tokens", True),
        ("GET", "/api/v1/sites/abcdefgh/stats", True),
    ):
        with app.test_request_context(path, method=method):
            assert limits._not_limited() is exempt, path
    # And failed sign-ins are still limited
    _limited_sign_ins(app.test_client())
