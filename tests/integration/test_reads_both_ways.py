"""Busuanzi, the public counters and the badges answer alike on the lean path and
through Flask: the same status, headers and body, and the lean path answers them
itself except the errors (which it hands to Flask)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from werkzeug.test import Client

from page_tracker.db import get_session
from page_tracker.lean_path import LeanPath
from page_tracker.sites.services import create_site
from tests.integration.test_ingest_both_ways import SITE, Case, Recorder, answer, send

REFERER = {"Referer": "https://example.com/post?utm_source=news"}
DNT = {**REFERER, "DNT": "1"}
# The cookie's Expires is a second-resolution clock: the two requests may straddle a tick.
EXPIRES = re.compile(r"; Expires=[^;]+")  # not counted: both ways read the same numbers


def read(name: str, url: str, status: int = 200, **headers: str) -> Case:
    # Busuanzi answers its refusals itself; the counters hand their errors to Flask.
    to_flask = status >= 400 and not url.startswith(("/busuanzi", "/?"))
    return Case(name, "GET", url, None, headers, status, "", through_flask=to_flask)


CASES = [
    read("busuanzi, not counted", "/busuanzi?jsonpCallback=cb", **DNT),
    read("busuanzi at the site root", "/?jsonpCallback=BusuanziCallback_1", **DNT),
    read("busuanzi, bad callback", "/busuanzi?jsonpCallback=alert(1)", 400, **DNT),
    read("busuanzi, no Referer", "/busuanzi?jsonpCallback=cb", 400),
    read("busuanzi, unknown host", "/busuanzi?jsonpCallback=cb", 404, Referer="https://x.org/"),
    read("counters of the site", f"/api/v1/counters/{SITE}"),
    read("counters of a page", f"/api/v1/counters/{SITE}?path=/post"),
    read("counters, unchanged", f"/api/v1/counters/{SITE}", 304, **{"If-None-Match": "ETAG"}),
    read("counters, bad path", f"/api/v1/counters/{SITE}?path=post", 400),
    read("counters, unknown site", "/api/v1/counters/nosuchsite00", 404),
    read("badge", f"/badge/{SITE}.svg?label=readers"),
    read("badge of a page", f"/badge/{SITE}.svg?path=/post"),
    read("badge, unknown site", "/badge/nosuchsite00.svg", 404),
]


@pytest.fixture
def app(clean_database: str, make_app: Callable[..., Flask]) -> Flask:
    return make_app(DATABASE_URL=clean_database)


@pytest.fixture
def site(app: Flask) -> str:
    with app.app_context():
        session = get_session()
        site_id = create_site(session, "example.com", public_counters=True).id
        session.commit()
    return site_id


def _etag(client: Client, site: str) -> str:
    return str(client.get(f"/api/v1/counters/{site}").headers["ETag"])


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_should_answer_reads_alike_through_the_lean_path_and_through_flask(
    app: Flask, site: str, case: Case
) -> None:
    # Given Flask's own WSGI app and the lean path in front of it, and a counted view
    assert isinstance(app.wsgi_app, LeanPath)
    flask_only = Recorder(app.wsgi_app.next)
    lean = app.wsgi_app.in_front_of(flask_only)
    send(Client(lean), read("count", "/busuanzi?jsonpCallback=cb", **REFERER), site, "warm")
    if "If-None-Match" in case.headers:
        case = Case(**{**case.__dict__, "headers": {"If-None-Match": _etag(Client(lean), site)}})
    flask_only.paths.clear()

    # When the same request goes each way
    through_flask = send(Client(flask_only), case, site, "req-reads-1")
    through_lean = send(Client(lean), case, site, "req-reads-1")

    # Then the answers are the same, and the lean path answered itself unless an error
    assert answer(through_lean) == answer(through_flask)
    assert through_lean.status_code == case.status
    path = case.url.replace(SITE, site).split("?")[0]
    assert flask_only.paths == [path] * (2 if case.through_flask else 1)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_should_count_a_busuanzi_view_on_the_lean_path_as_through_flask(
    app: Flask, site: str
) -> None:
    assert isinstance(app.wsgi_app, LeanPath)
    flask_only = Recorder(app.wsgi_app.next)
    lean = app.wsgi_app.in_front_of(flask_only)
    case = read("counted", "/busuanzi?jsonpCallback=cb", **REFERER)

    through_flask = send(Client(flask_only), case, site, "req-count-1")
    through_lean = send(Client(lean), case, site, "req-count-1")

    # The same headers (the same visitor cookie), and the lean view counted once more
    numbers = re.compile(rb'"(site_pv|page_pv)":(\d+)')
    before = dict(numbers.findall(through_flask.get_data()))
    after = dict(numbers.findall(through_lean.get_data()))
    assert {key: int(value) for key, value in after.items()} == {
        key: int(value) + 1 for key, value in before.items()
    }
    status_lean, headers_lean, _ = answer(through_lean)
    status_flask, headers_flask, _ = answer(through_flask)
    assert status_lean == status_flask
    assert _without_expires(headers_lean) == _without_expires(headers_flask)
    assert through_lean.headers["X-Page-Tracker-Reason"] == "accepted"
    assert "busuanziId=" in through_lean.headers["Set-Cookie"]
    assert flask_only.paths == ["/busuanzi"]


def _without_expires(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(name, EXPIRES.sub("", value)) for name, value in headers]
