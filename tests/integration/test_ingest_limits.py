"""Limits of the ingest routes (issue 8, rows 4, 5, 7, 16): bodies are bounded while they
are read (413, memory flat whatever the body's size), JSON nesting is bounded (400, never
a RecursionError), a content type no tracker sends is 415, and ``HEAD`` never counts.
Errors under ``/api`` have the JSON error shape, on the lean WSGI path as through Flask.
"""

from __future__ import annotations

import io
import json
import tracemalloc
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from page_tracker.db import get_session
from page_tracker.ingest.parsing import MAX_BODY
from page_tracker.seedpage.store import STORE
from page_tracker.sites.services import create_site
from page_tracker.stats.counters import COUNTERS

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

READER = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)
ERROR_KEYS = {"code", "error_code", "message", "details"}


@pytest.fixture
def app(clean_database: str, make_app: Callable[..., Flask]) -> Flask:
    return make_app(DATABASE_URL=clean_database)


def add_site(app: Flask) -> str:
    with app.app_context():
        session = get_session()
        site = create_site(session, "example.com", public_counters=True)
        session.commit()
        return site.id


def site_pageviews(app: Flask, site: str) -> int:
    with app.app_context():
        return COUNTERS.get().read(site, "/").site_pv


def assert_error_shape(response: Any, status: int) -> None:
    assert response.status_code == status, response.data
    assert response.headers["Content-Type"] == "application/json"
    assert response.json["code"] == status
    assert response.json["error_code"] // 100 == status
    assert set(response.json) <= ERROR_KEYS


class EndlessBody(io.RawIOBase):
    """A request body of ``size`` bytes made while it is read, counting what was read."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = min(len(buffer), self.size - self.read_bytes)
        buffer[:count] = b"[" * count
        self.read_bytes += count
        return count


HUNDRED_MB = 100 * 1024 * 1024


@pytest.mark.parametrize("path", ["/api/v1/hits", "/api/event"])
@pytest.mark.parametrize("length_known", [True, False], ids=["content-length", "chunked"])
def test_should_answer_413_reading_no_more_than_the_limit_of_a_huge_body(
    app: Flask, path: str, length_known: bool
) -> None:
    # Given a 100 MB body, with its Content-Length (the lean path) or without (chunked)
    body = EndlessBody(HUNDRED_MB)
    environ: dict[str, Any] = {"wsgi.input": body, "CONTENT_TYPE": "text/plain"}
    if length_known:
        environ["CONTENT_LENGTH"] = str(HUNDRED_MB)
    else:
        environ["HTTP_TRANSFER_ENCODING"] = "chunked"
        environ["wsgi.input_terminated"] = True
    # When posted
    tracemalloc.start()
    try:
        response = app.test_client().post(path, environ_overrides=environ)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Then the answer is 413 with the JSON error shape, and memory did not follow the body
    assert_error_shape(response, 413)
    assert body.read_bytes <= 64 * 1024
    assert peak < 4 * 1024 * 1024


@pytest.mark.parametrize(
    ("path", "size"),
    [("/api/v1/hits", MAX_BODY + 1), ("/api/v1/hits", 200_000), ("/api/event", 200_000)],
)
def test_should_answer_413_for_a_body_over_the_limit(app: Flask, path: str, size: int) -> None:
    response = app.test_client().post(path, data=b" " * size, content_type="text/plain")
    assert_error_shape(response, 413)


@pytest.mark.parametrize(("path", "depth"), [("/api/v1/hits", 8000), ("/api/event", 15000)])
def test_should_answer_400_for_deeply_nested_json(app: Flask, path: str, depth: int) -> None:
    # Given JSON opening more arrays than the parser recurses into (within the size limit)
    body = b"[" * depth
    # When posted with its length (the lean path) and chunked (read by the route alike)
    for environ in ({}, {"CONTENT_LENGTH": None, "wsgi.input_terminated": True}):
        response = app.test_client().post(
            path, data=body, content_type="text/plain", environ_overrides=environ
        )
        # Then it is a 400 with the JSON error shape, not a RecursionError's 500
        assert_error_shape(response, 400)


def test_should_answer_400_for_deep_json_in_plausible_props(app: Flask) -> None:
    props = "[" * 5000 + "]" * 5000
    body = json.dumps(
        {"n": "pageview", "u": "https://example.com/", "d": "example.com", "p": props}
    )
    response = app.test_client().post("/api/event", data=body, content_type="text/plain")
    assert_error_shape(response, 400)


@pytest.mark.parametrize("path", ["/api/v1/hits", "/api/event"])
@pytest.mark.parametrize(
    "content_type",
    ["application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "image/png"],
)
def test_should_answer_415_for_a_content_type_no_tracker_sends(
    app: Flask, path: str, content_type: str
) -> None:
    site = add_site(app)
    body = json.dumps(
        {
            "site": site,
            "url": "https://example.com/",
            "n": "pageview",
            "u": "https://example.com/",
            "d": "example.com",
        }
    )
    response = app.test_client().post(path, data=body, content_type=content_type)
    assert_error_shape(response, 415)
    assert site_pageviews(app, site) == 0


@pytest.mark.parametrize(
    "content_type", ["text/plain", "text/plain;charset=UTF-8", "application/json", None]
)
def test_should_take_the_content_types_trackers_send(app: Flask, content_type: str | None) -> None:
    site = add_site(app)
    body = json.dumps({"site": site, "url": "https://example.com/"})
    headers = {"User-Agent": READER}
    if content_type is not None:
        headers["Content-Type"] = content_type
    response = app.test_client().post("/api/v1/hits", data=body, headers=headers)
    assert response.status_code == 202
    assert response.headers["X-Page-Tracker-Reason"] == "accepted"


def test_should_never_count_head_requests(app: Flask) -> None:
    # Given a site
    site = add_site(app)
    client = app.test_client()
    headers = {"User-Agent": READER, "Referer": "https://example.com/"}
    # When each counting URL is asked with HEAD
    answers = [
        client.head(
            "/count.gif",
            query_string={"site": site, "url": "https://example.com/"},
            headers=headers,
        ),
        client.head("/busuanzi", query_string={"jsonpCallback": "cb"}, headers=headers),
        client.head("/", query_string={"jsonpCallback": "cb"}, headers=headers),
        client.head("/", headers=headers),
    ]
    # Then each answers as a GET would, and nothing was counted
    assert [a.status_code for a in answers] == [200, 200, 200, 200]
    assert site_pageviews(app, site) == 0
    with app.app_context():
        assert STORE.get().get("page_views") == 0
    # while a GET still counts
    client.get(
        "/count.gif", query_string={"site": site, "url": "https://example.com/"}, headers=headers
    )
    assert site_pageviews(app, site) == 1


def test_should_refuse_a_plausible_url_with_an_invalid_port(app: Flask) -> None:
    add_site(app)
    body = json.dumps({"n": "pageview", "u": "https://example.com:99999/", "d": "example.com"})
    response = app.test_client().post("/api/event", data=body, content_type="text/plain")
    assert_error_shape(response, 400)


def test_should_answer_the_hits_preflight_without_a_reason(app: Flask) -> None:
    response = app.test_client().options("/api/v1/hits", headers={"Origin": "https://example.com"})
    assert response.status_code in {200, 204}
    assert "X-Page-Tracker-Reason" not in response.headers
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_should_name_the_length_limit_of_a_counters_path(app: Flask) -> None:
    site = add_site(app)
    response = app.test_client().get(
        f"/api/v1/counters/{site}", query_string={"path": "/" + "a" * 3000}
    )
    assert_error_shape(response, 400)
    assert "2048" in response.json["message"]
