"""The dashboard's pages through Flask's test client: signed out, signed in through
``/api/v1/session``, another member's site, bad ranges and the strict headers."""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient

from page_tracker import migrate
from page_tracker.db import DATABASE, get_session
from page_tracker.ingest.hits import RawHit
from page_tracker.ingest.record import record
from page_tracker.sites.services import create_site
from page_tracker.users.memberships import set_member
from page_tracker.users.models import MemberRole
from page_tracker.users.services import create_user, update_user, user_by_email

PASSWORD = "correct horse"
AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0 Safari/537.36"
)


@dataclass
class Dashboard:
    app: Flask
    client: FlaskClient
    mine: str
    theirs: str


@pytest.fixture
def dashboard(tmp_path: object, make_app: Callable[..., Flask]) -> Dashboard:
    app = make_app(DATABASE_URL=f"sqlite:///{tmp_path}/dashboard.db")
    with app.app_context():
        migrate.upgrade(DATABASE.get(app).engine)
        session = get_session()
        me = create_user(session, "me@example.com", PASSWORD)
        other = create_user(session, "other@example.com", PASSWORD)
        mine = create_site(session, "mine.example")
        theirs = create_site(session, "theirs.example")
        set_member(session, mine.id, me, MemberRole.OWNER)
        set_member(session, theirs.id, other, MemberRole.OWNER)
        session.commit()
        ids = mine.id, theirs.id
    with app.app_context():
        for path in ("/a", "/a", "/b"):
            raw = RawHit(
                site_id=ids[0],
                url=f"https://mine.example{path}",
                user_agent=AGENT,
                ip="203.0.113.9",
                referrer="https://news.example/x",
                title=None,
                source="js",
            )
            assert record(raw, now=datetime.now(UTC)).reason == "accepted"
    return Dashboard(app, app.test_client(), *ids)


def _sign_in(client: FlaskClient, password: str = PASSWORD) -> int:
    answer = client.post("/api/v1/session", json={"email": "me@example.com", "password": password})
    return answer.status_code


def test_should_show_the_sign_in_page_with_strict_headers_when_signed_out(
    dashboard: Dashboard,
) -> None:
    page = dashboard.client.get("/dashboard/")
    assert page.status_code == 200
    assert 'id="sign-in"' in page.get_data(as_text=True)
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["Referrer-Policy"] == "same-origin"
    assert "<script>" not in page.get_data(as_text=True)  # no inline script anywhere
    site_page = dashboard.client.get(f"/dashboard/sites/{dashboard.mine}")
    assert site_page.status_code == 401
    assert 'id="sign-in"' in site_page.get_data(as_text=True)


def test_should_list_my_sites_with_their_last_30_days_once_signed_in(
    dashboard: Dashboard,
) -> None:
    assert _sign_in(dashboard.client, "wrong") == 401
    assert _sign_in(dashboard.client) == 200
    text = dashboard.client.get("/dashboard/").get_data(as_text=True)
    assert "mine.example" in text
    assert "theirs.example" not in text
    assert '<td class="num">3</td>' in text  # page views
    assert '<td class="num">1</td>' in text  # visitors


def test_should_show_a_site_page_with_totals_tables_and_chart_source(
    dashboard: Dashboard,
) -> None:
    _sign_in(dashboard.client)
    page = dashboard.client.get(f"/dashboard/sites/{dashboard.mine}?range=7d")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert '<p class="big">3</p>' in text
    assert "/a" in text
    assert "news.example" in text
    assert f"/api/v1/sites/{dashboard.mine}/stats?from=" in text
    assert f"/dashboard/sites/{dashboard.mine}/settings" in text  # the snippets are there
    today = dashboard.client.get(f"/dashboard/sites/{dashboard.mine}?range=today")
    assert "interval=hour" in today.get_data(as_text=True)


def test_should_answer_another_members_site_and_an_unknown_id_with_a_404_page(
    dashboard: Dashboard,
) -> None:
    _sign_in(dashboard.client)
    for site in (dashboard.theirs, "nosuchsite00", "../../etc"):
        page = dashboard.client.get(f"/dashboard/sites/{site}")
        assert page.status_code == 404, site
        text = page.get_data(as_text=True)
        assert "Not found" in text
        assert "theirs.example" not in text


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("range=decade", "range must be one of"),
        ("range=custom&from=2026-02-30&to=2026-03-01", "from must be a date"),
        ("range=custom&from=2026-03-02&to=2026-03-01", "from is after to"),
        ("range=custom&from=1900-01-01&to=1900-01-02", "between"),
        ("range=custom", "from must be a date"),
        ("range=custom&from=%00&to=2026-03-01", "from must be a date"),
        ("tz=Mars/Olympus", "IANA time zone"),
        ("tz=Europe/Berlin%00", "IANA time zone"),
        ("tz=", "IANA time zone"),
        ("interval=week", "interval must be one of"),
        ("range=year&interval=hour&tz=UTC", "at most 31 days"),
        ("page=nope", "page must be a path"),
        ("page=/a%00b", "control characters"),
        ("referrer=%ED%A0%80x%01", "control characters"),
        ("page=/" + "a" * 600, "1 to 500 characters"),
        ("country=germany", "two-letter code"),
        ("device=toaster", "device must be one of"),
        ("country=DE&browser=Firefox", "one of country, browser at a time"),
        ("pages_offset=-1", "pages_offset must be"),
        ("countries_offset=%C2%B2", "countries_offset must be"),
        ("os_offset=99999999", "os_offset must be"),
    ],
)
def test_should_explain_a_bad_range_zone_filter_or_offset_in_the_url(
    dashboard: Dashboard, query: str, words: str
) -> None:
    _sign_in(dashboard.client)
    page = dashboard.client.get(f"/dashboard/sites/{dashboard.mine}?{query}")
    assert page.status_code == 422
    text = html.unescape(page.get_data(as_text=True))
    assert "This view cannot be shown" in text
    assert words in text
    assert "Traceback" not in text


def test_should_answer_a_bad_url_on_another_members_site_with_the_404_page(
    dashboard: Dashboard,
) -> None:
    _sign_in(dashboard.client)
    page = dashboard.client.get(f"/dashboard/sites/{dashboard.theirs}?range=decade")
    assert page.status_code == 404
    assert "theirs.example" not in page.get_data(as_text=True)


def test_should_serve_the_vendored_chart_library_and_the_own_script(dashboard: Dashboard) -> None:
    for name in ("uplot/uPlot.iife.min.js", "dashboard.js", "dashboard.css"):
        with dashboard.client.get(f"/dashboard/static/{name}") as answer:
            assert answer.status_code == 200, name
            assert answer.headers["X-Content-Type-Options"] == "nosniff"


def test_should_ask_to_sign_in_again_once_the_session_has_ended(dashboard: Dashboard) -> None:
    _sign_in(dashboard.client)
    assert dashboard.client.get(f"/dashboard/sites/{dashboard.mine}").status_code == 200
    with dashboard.app.app_context():
        session = get_session()
        update_user(session, user_by_email(session, "me@example.com"), password="new horse!")
        session.commit()
    page = dashboard.client.get(f"/dashboard/sites/{dashboard.mine}")
    assert page.status_code == 401
    assert 'id="sign-in"' in page.get_data(as_text=True)
    assert "mine.example" not in page.get_data(as_text=True)
