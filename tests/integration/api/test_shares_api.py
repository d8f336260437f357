"""``/api/v1/sites/{id}/shares`` and the members API as the settings page uses them, on
each database: share links made, listed, opened by the stats API through the browser that
opened them, revoked; and the bad input each refuses (in the error shape, changing
nothing): an unknown member's email, a bad role, NUL and control characters."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask

from page_tracker.db import get_session
from page_tracker.sites.shares import ShareLink, open_share
from tests.integration.api.test_sites_and_users_api import PASSWORD, Api, _app


def _site_with_sharing(owner: Api) -> str:
    status, site = owner("POST", "/sites", {"domain": "shared.example"})
    assert status == 201
    assert site["sharing"] is False
    assert owner("POST", f"/sites/{site['id']}/shares", {})[0] == 409  # sharing is off
    status, changed = owner("PATCH", f"/sites/{site['id']}", {"sharing": True})
    assert (status, changed["sharing"]) == (200, True)
    return str(site["id"])


def test_should_create_list_open_and_revoke_share_links(
    clean_database: str, make_app: Callable[..., Flask]
) -> None:
    app = _app(make_app, clean_database)
    ann = Api(app.test_client(), "ann@example.com", ["read", "write"])
    bob = Api(app.test_client(), "bob@example.com", ["read", "write"])
    site = _site_with_sharing(ann)

    status, made = ann(
        "POST", f"/sites/{site}/shares", {"label": "Team 小组", "expires_in_days": 7}
    )
    assert status == 201
    assert made["token"].startswith("pts_")
    assert made["url"].endswith(f"/dashboard/share/{made['token']}")
    assert made["prefix"] == made["token"][:10]
    assert made["state"] == "live"
    status, listed = ann("GET", f"/sites/{site}/shares")
    assert status == 200
    assert [(link["id"], link["label"]) for link in listed] == [(made["id"], "Team 小组")]
    assert "token" not in listed[0]
    with app.app_context():  # stored hashed: the clear token is nowhere in the row
        row = get_session().get(ShareLink, made["id"])
        assert row is not None
        assert made["token"] not in (row.token_hash, row.prefix, row.label)

    # Somebody signed out opens the link; the stats API then answers that browser.
    reader = app.test_client()
    assert reader.get(f"/api/v1/sites/{site}/stats").status_code == 401
    assert reader.get(f"/dashboard/share/{made['token']}").status_code == 200
    assert reader.get(f"/api/v1/sites/{site}/stats").status_code == 200
    assert reader.get(f"/api/v1/sites/{site}/stats/pages").status_code == 200
    assert reader.get(f"/api/v1/sites/{site}").status_code == 401  # statistics only
    assert reader.get(f"/api/v1/sites/{site}/members").status_code == 401

    # Not a member: bob neither lists nor revokes; the site does not exist for him.
    assert bob("GET", f"/sites/{site}/shares")[0] == 404
    assert bob("DELETE", f"/sites/{site}/shares/{made['id']}")[0] == 404

    assert ann("DELETE", f"/sites/{site}/shares/{made['id']}") == (204, None)
    assert ann("DELETE", f"/sites/{site}/shares/{made['id']}")[0] == 404
    assert ann("GET", f"/sites/{site}/shares") == (200, [])
    assert reader.get(f"/api/v1/sites/{site}/stats").status_code == 401
    assert reader.get(f"/dashboard/share/{made['token']}").status_code == 410


def test_should_stop_every_link_when_sharing_is_turned_off_or_a_link_expires(
    clean_database: str, make_app: Callable[..., Flask]
) -> None:
    app = _app(make_app, clean_database)
    ann = Api(app.test_client(), "ann@example.com", ["read", "write"])
    site = _site_with_sharing(ann)
    _, made = ann("POST", f"/sites/{site}/shares", {})
    assert made["expires_at"] is None
    reader = app.test_client()
    assert reader.get(f"/dashboard/share/{made['token']}").status_code == 200

    assert ann("PATCH", f"/sites/{site}", {"sharing": False})[0] == 200
    assert reader.get(f"/api/v1/sites/{site}/stats").status_code == 401
    assert reader.get(f"/dashboard/share/{made['token']}").status_code == 410
    assert ann("GET", f"/sites/{site}/shares")[1][0]["state"] == "sharing_off"

    assert ann("PATCH", f"/sites/{site}", {"sharing": True})[0] == 200
    assert reader.get(f"/dashboard/share/{made['token']}").status_code == 200
    with app.app_context():
        session = get_session()
        row = session.get(ShareLink, made["id"])
        assert row is not None
        row.expires_at = datetime.now(UTC) - timedelta(minutes=1)
        session.commit()
        opened = open_share(session, made["token"])
        assert opened is not None
        assert opened.state == "expired"
    assert reader.get(f"/dashboard/share/{made['token']}").status_code == 410
    assert reader.get(f"/api/v1/sites/{site}/stats").status_code == 401


def test_should_take_whole_days_written_with_a_zero_fraction(
    clean_database: str, make_app: Callable[..., Flask]
) -> None:
    # Given 7.0 days: an integer to JSON Schema, and so to the OpenAPI document
    # (schemathesis sent 528.0 and got a 400)
    app = _app(make_app, clean_database)
    ann = Api(app.test_client(), "ann@example.com", ["read", "write"])
    site = _site_with_sharing(ann)
    # When a link is made for that long
    status, made = ann("POST", f"/sites/{site}/shares", {"expires_in_days": 7.0})
    # Then it is made, for 7 days
    assert status == 201, made
    made_at = datetime.fromisoformat(made["created_at"])
    lasts = datetime.fromisoformat(made["expires_at"]) - made_at
    assert abs(lasts - timedelta(days=7)) < timedelta(minutes=1)


@pytest.mark.parametrize(
    "body",
    [
        {"label": "a\x00b"},
        {"expires_in_days": 7.5},
        {"expires_in_days": True},
        {"label": "line\nbreak"},
        {"label": "x" * 101},
        {"expires_in_days": 0},
        {"expires_in_days": 3651},
        {"expires_in_days": "7"},
        {"token": "pts_mine"},
        {"label": "\ud800"},
    ],
)
def test_should_refuse_a_bad_share_link_and_make_none(
    clean_database: str, make_app: Callable[..., Flask], body: dict[str, object]
) -> None:
    app = _app(make_app, clean_database)
    ann = Api(app.test_client(), "ann@example.com", ["read", "write"])
    site = _site_with_sharing(ann)
    status, error = ann("POST", f"/sites/{site}/shares", body)
    assert status == 400, error
    assert error["code"] == 400
    assert ann("GET", f"/sites/{site}/shares") == (200, [])


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"email": "nobody@example.com", "role": "viewer"}, 422),
        ({"email": "bob@example.com", "role": "admin"}, 400),
        ({"email": "bob@example.com", "role": "Owner"}, 400),
        ({"email": "bob\x00@example.com", "role": "viewer"}, 400),
        ({"email": "bob@example.com\n", "role": "viewer"}, 400),
        ({"email": "", "role": "viewer"}, 400),
        ({"email": ["bob@example.com"], "role": "viewer"}, 400),
    ],
)
def test_should_refuse_a_bad_member_and_add_none(
    clean_database: str, make_app: Callable[..., Flask], body: dict[str, object], status: int
) -> None:
    app = _app(make_app, clean_database)
    ann = Api(app.test_client(), "ann@example.com", ["read", "write"])
    site = _site_with_sharing(ann)
    answer, error = ann("POST", f"/sites/{site}/members", body)
    assert answer == status, error
    assert error["code"] == status
    assert [m["email"] for m in ann("GET", f"/sites/{site}/members")[1]] == ["ann@example.com"]


def test_should_not_open_a_share_link_that_is_not_one(
    clean_database: str, make_app: Callable[..., Flask]
) -> None:
    app = _app(make_app, clean_database)
    reader = app.test_client()
    for token in ("pts_unknown", "pt_notashare", "pts_" + "x" * 200, "%00", "pts_%E2%80%AE"):
        page = reader.get(f"/dashboard/share/{token}")
        assert page.status_code == 404, token
        assert "No such share link" in page.get_data(as_text=True)
    assert PASSWORD  # the module's accounts share one password
