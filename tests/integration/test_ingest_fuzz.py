"""Property-based tests of the four ingest routes (issue 8, item 2): ``/api/v1/hits``,
``/count.gif``, ``/busuanzi`` and ``/api/event`` with arbitrary text, bytes, nesting and
sizes, on SQLite, MariaDB and PostgreSQL, embedded and in Redis mode.

Whatever comes in: never a 5xx; under ``/api`` every error has the JSON error shape;
and once flushed, the database holds exactly the hits answered ``accepted``.

Examples per route and database: the ``default`` hypothesis profile's (few, for
``make test``); ``pytest --hypothesis-profile=long tests/integration/test_ingest_fuzz.py``
runs many more (profiles in ``tests/conftest.py``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote_from_bytes

import pytest
import redis
from flask import Flask
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from page_tracker import create_app
from page_tracker.app import close_app
from page_tracker.buffer.tasks import flush
from page_tracker.db import get_session
from page_tracker.settings import load_settings
from page_tracker.stats.models import SITE, Total
from tests.integration.sites import add_site

READER = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)
ERROR_KEYS = {"code", "error_code", "message", "details"}
HOST = "example.com"


@pytest.fixture(params=["embedded", "redis"])
def fuzz_app(
    request: pytest.FixtureRequest,
    clean_database: str,
    tmp_path: Path,
    redis_prefix: str,
) -> Iterator[Flask]:
    env = {"DATABASE_URL": clean_database}
    redis_url = None
    if request.param == "redis":
        redis_url = request.getfixturevalue("redis_url")
        env |= {"REDIS_URL": redis_url, "REDIS_KEY_PREFIX": redis_prefix}
    settings = load_settings(LOG_DIR=str(tmp_path / "log"), PAGE_TRACKER_ENV="test", **env)
    app = create_app(settings=settings, configure_logging=False)
    yield app
    close_app(app)
    if redis_url is not None:
        client = redis.Redis.from_url(redis_url)
        keys = list(client.scan_iter(f"{redis_prefix}*"))
        if keys:
            client.delete(*keys)
        client.close()


def stored_pageviews(app: Flask, site: str) -> int:
    flush(app)  # Redis mode: into the database; embedded: nothing to do
    with app.app_context():
        value = get_session().scalar(
            select(Total.pageviews).where(Total.site_id == site, Total.path_id == SITE)
        )
        return int(value or 0)


# -- what a careless client or an attacker sends --------------------------------------

texts = st.text(max_size=60)  # any code point, lone surrogates included
nasty_text = st.one_of(
    texts,
    st.sampled_from(["\x00", "\ud800", "\ufffe", "\x1b[2J", "%00", "../", "\u202e"]).map(
        lambda s: f"a{s}b"
    ),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | texts,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(texts, children, max_size=4),
    max_leaves=12,
)


def page_urls() -> st.SearchStrategy[str]:
    return st.one_of(
        nasty_text.map(lambda t: f"https://{HOST}/{t}"),
        st.integers(0, 200_000).map(lambda port: f"https://{HOST}:{port}/p"),
        st.integers(1, 3000).map(lambda n: f"https://{HOST}/{'x' * n}"),
        texts,
    )


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@st.composite
def hit_bodies(draw: st.DrawFn, site: str) -> tuple[bytes, str | None]:
    """A ``/api/v1/hits`` body and its content type."""
    kind = draw(st.sampled_from(["hit", "json", "bytes", "deep", "large"]))
    if kind == "hit":
        fields: dict[str, Any] = {
            "site": draw(st.sampled_from([site, site.upper(), "", "nosuchsite"]) | texts),
            "url": draw(page_urls()),
        }
        for name in ("title", "referrer", "screen", "event"):
            if draw(st.booleans()):
                fields[name] = draw(nasty_text | json_values)
        body = json.dumps(fields).encode()
    elif kind == "json":
        body = json.dumps(draw(json_values)).encode()
    elif kind == "bytes":
        body = draw(st.binary(max_size=200))
    elif kind == "deep":
        body = nested(draw(st.integers(100, 4000))).encode()
    else:
        body = b" " * draw(st.integers(8_000, 40_000)) + b"{}"
    content_type = draw(
        st.sampled_from(
            ["text/plain", "application/json", None, "application/x-www-form-urlencoded"]
        )
    )
    return body, content_type


@st.composite
def event_bodies(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["event", "json", "bytes", "deep"]))
    if kind == "event":
        fields: dict[str, Any] = {
            "n": draw(st.sampled_from(["pageview", "signup"]) | nasty_text),
            "u": draw(page_urls()),
            "d": draw(st.sampled_from([HOST, f"{HOST},other.example", ""]) | texts),
        }
        for name in ("r", "w", "h", "p"):
            if draw(st.booleans()):
                fields[name] = draw(json_values)
        return json.dumps(fields).encode()
    if kind == "json":
        return json.dumps(draw(json_values)).encode()
    if kind == "bytes":
        return draw(st.binary(max_size=200))
    return nested(draw(st.integers(100, 8000))).encode()


raw_bytes = st.binary(max_size=80)
# A header value as a server passes it on: latin-1 text without line breaks.
header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=80)


# -- the properties ---------------------------------------------------------------------


def check_answer(path: str, response: Any) -> int:
    """Never a 5xx; the JSON error shape under /api; returns how many hits were
    answered ``accepted``."""
    assert response.status_code < 500, (path, response.status_code, response.data[:200])
    if path.startswith("/api/") and response.status_code >= 400:
        assert response.headers["Content-Type"] == "application/json"
        body = response.get_json()
        assert set(body) <= ERROR_KEYS
        assert body["code"] == response.status_code
    reasons = response.headers.get("X-Page-Tracker-Reason", "")
    return reasons.split(",").count("accepted")


def test_should_hold_for_any_hits_body(fuzz_app: Flask) -> None:
    site = add_site(fuzz_app, HOST)
    client = fuzz_app.test_client()
    accepted = 0

    @given(hit_bodies(site))
    def one(case: tuple[bytes, str | None]) -> None:
        nonlocal accepted
        body, content_type = case
        headers = {"User-Agent": READER}
        if content_type is not None:
            headers["Content-Type"] = content_type
        accepted += check_answer(
            "/api/v1/hits", client.post("/api/v1/hits", data=body, headers=headers)
        )

    one()
    assert stored_pageviews(fuzz_app, site) == accepted


def test_should_hold_for_any_pixel_query(fuzz_app: Flask) -> None:
    site = add_site(fuzz_app, HOST)
    client = fuzz_app.test_client()
    accepted = 0

    @given(raw_bytes, raw_bytes, st.booleans(), header_text)
    def one(path: bytes, title: bytes, own_site: bool, user_agent: str) -> None:
        nonlocal accepted
        site_part = site if own_site else quote_from_bytes(title[:12])
        query = (
            f"site={site_part}&url=https%3A%2F%2F{HOST}%2F{quote_from_bytes(path)}"
            f"&title={quote_from_bytes(title)}"
        )
        response = client.get(f"/count.gif?{query}", headers={"User-Agent": user_agent or READER})
        accepted += check_answer("/count.gif", response)

    one()
    assert stored_pageviews(fuzz_app, site) == accepted


def test_should_hold_for_any_busuanzi_referer(fuzz_app: Flask) -> None:
    site = add_site(fuzz_app, HOST)
    client = fuzz_app.test_client()
    accepted = 0

    @given(header_text, st.sampled_from(["/busuanzi", "/"]), header_text)
    def one(page: str, path: str, callback: str) -> None:
        nonlocal accepted
        response = client.get(
            path,
            query_string={"jsonpCallback": callback or "cb"},
            headers={"User-Agent": READER, "Referer": f"https://{HOST}/{page}"},
        )
        accepted += check_answer(path, response)

    one()
    assert stored_pageviews(fuzz_app, site) == accepted


def test_should_hold_for_any_plausible_event(fuzz_app: Flask) -> None:
    site = add_site(fuzz_app, HOST)
    client = fuzz_app.test_client()
    accepted = 0

    @given(event_bodies())
    def one(body: bytes) -> None:
        nonlocal accepted
        response = client.post(
            "/api/event", data=body, headers={"User-Agent": READER, "Content-Type": "text/plain"}
        )
        accepted += check_answer("/api/event", response)

    one()
    assert stored_pageviews(fuzz_app, site) == accepted
