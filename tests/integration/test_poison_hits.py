"""One reader's bad hit never costs another's (issue 8, rows 1-3), on each database and
in Redis mode.

A NUL byte, other control characters, a lone surrogate or a non-character in a URL,
title or event is cleaned at the edge (:mod:`page_tracker.ingest.normalise`), so every
hit the routes accept can be stored. Behind that, a view no database takes (built here
past the edge) costs only itself: the group-commit batch holding it is bisected, and the
Redis flush moves it to the dead letters after a few attempts instead of stalling.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from page_tracker import create_app
from page_tracker.app import close_app
from page_tracker.buffer.batch_format import encode_views
from page_tracker.buffer.batching import ItemRefused
from page_tracker.buffer.cli import flush_command
from page_tracker.buffer.dead_letters import DeadLetters
from page_tracker.buffer.redis_keys import RedisKeys
from page_tracker.buffer.redis_scripts import Scripts, ingest_arguments
from page_tracker.buffer.sinks import SINK
from page_tracker.buffer.tasks import flush, get_flusher
from page_tracker.db import get_session
from page_tracker.enrich import Enrichment
from page_tracker.metrics import METRICS
from page_tracker.redis_client import REDIS
from page_tracker.settings import SETTINGS, load_settings
from page_tracker.stats.models import SITE, Total
from page_tracker.stats.models import Path as PathRow
from page_tracker.stats.pageview import PageView
from tests.integration.sites import add_site

READER = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)
LONE_SURROGATE = "\ud800"


@pytest.fixture
def make_app(tmp_path: Path) -> Iterator[Callable[..., Flask]]:
    apps: list[Flask] = []

    def build(**env: str) -> Flask:
        settings = load_settings(LOG_DIR=str(tmp_path / "log"), PAGE_TRACKER_ENV="test", **env)
        apps.append(create_app(settings=settings, configure_logging=False))
        return apps[-1]

    yield build
    for app in apps:
        close_app(app)


def site_pageviews(app: Flask, site: str) -> int:
    with app.app_context():
        value = get_session().scalar(
            select(Total.pageviews).where(Total.site_id == site, Total.path_id == SITE)
        )
        return int(value or 0)


def stored_paths(app: Flask, site: str) -> list[str]:
    with app.app_context():
        return sorted(get_session().scalars(select(PathRow.path).where(PathRow.site_id == site)))


# Each way in, with a hit whose page URL and title carry what no database stores as is.
def via_hits(app: Flask, site: str, dirt: str) -> str:
    body = json.dumps({"site": site, "url": f"https://example.com/a{dirt}b", "title": f"T{dirt}"})
    response = app.test_client().post(
        "/api/v1/hits", data=body, headers={"Content-Type": "text/plain", "User-Agent": READER}
    )
    assert response.status_code == 202, response.data
    return response.headers["X-Page-Tracker-Reason"]


def via_pixel(app: Flask, site: str, dirt: str) -> str:
    response = app.test_client().get(
        "/count.gif",
        query_string={"site": site, "url": f"https://example.com/a{dirt}b", "title": f"T{dirt}"},
        headers={"User-Agent": READER},
    )
    assert response.status_code == 200
    return response.headers["X-Page-Tracker-Reason"]


def via_event(app: Flask, site: str, dirt: str) -> str:
    body = json.dumps({"n": f"go{dirt}", "u": f"https://example.com/a{dirt}b", "d": "example.com"})
    response = app.test_client().post(
        "/api/event", data=body, headers={"Content-Type": "text/plain", "User-Agent": READER}
    )
    assert response.status_code == 202, response.data
    return response.headers["X-Page-Tracker-Reason"]


def via_busuanzi(app: Flask, site: str, dirt: str) -> str:
    response = app.test_client().get(
        "/busuanzi",
        query_string={"jsonpCallback": "cb"},
        headers={"User-Agent": READER, "Referer": f"https://example.com/a{dirt}b"},
    )
    assert response.status_code == 200, response.data
    return response.headers["X-Page-Tracker-Reason"]


ROUTES = {"hits": via_hits, "pixel": via_pixel, "event": via_event, "busuanzi": via_busuanzi}
# JSON can carry a lone surrogate (\ud800); a query string or header only bytes.
DIRT = {"nul": "\x00", "escape": "\x1b[31m", "surrogate": LONE_SURROGATE, "nonchar": "\ufffe"}


@pytest.mark.parametrize("dirt", list(DIRT))
@pytest.mark.parametrize("route", list(ROUTES))
def test_should_store_a_dirty_hit_cleaned_on_each_database(
    clean_database: str, make_app: Callable[..., Flask], route: str, dirt: str
) -> None:
    # Given a site (embedded mode)
    app = make_app(DATABASE_URL=clean_database)
    site = add_site(app)
    # When a hit's URL and title carry a NUL, an escape sequence, a lone surrogate or a
    # non-character (percent-encoded where the way in takes only bytes)
    raw = DIRT[dirt]
    if route in {"pixel", "busuanzi"} and dirt == "surrogate":
        raw = "%ED%A0%80"  # the surrogate's UTF-8-style bytes: invalid UTF-8
    if route == "event" and dirt == "surrogate":
        # Plausible's body is validated strictly (pydantic): refused at the edge, 400
        response = app.test_client().post(
            "/api/event",
            data=json.dumps(
                {"n": "pageview", "u": f"https://example.com/{raw}", "d": "example.com"}
            ),
            headers={"Content-Type": "text/plain", "User-Agent": READER},
        )
        assert response.status_code == 400
        assert response.get_json()["code"] == 400
        return
    reason = ROUTES[route](app, site, raw)
    # Then it is counted, with nothing a database or a terminal chokes on
    assert reason == "accepted"
    assert site_pageviews(app, site) == 1
    for path in stored_paths(app, site):
        assert path.isprintable() or "%" in path
        assert "\x00" not in path
        assert "\x1b" not in path
        assert LONE_SURROGATE not in path
    # and a clean hit after it is counted too
    assert via_hits(app, site, "") == "accepted"
    assert site_pageviews(app, site) == 2


def poisoned(view: PageView) -> PageView:
    """A view no database stores (past the edge's cleaning): a lone surrogate in its
    title (Redis takes it: the stream's JSON escapes it)."""
    return replace(view, title=f"poison{LONE_SURROGATE}")


def a_view(site: str, number: int) -> PageView:
    return PageView(
        site_id=site,
        path=f"/p{number}",
        hostname="example.com",
        timestamp=datetime.now(UTC),
        visitor=number.to_bytes(16, "big"),
        lifetime_visitor=number.to_bytes(16, "big"),
        title=None,
        event=None,
        source="js",
        keep_raw=False,
        enrichment=Enrichment(),
    )


def test_should_write_every_good_hit_of_a_batch_that_holds_a_bad_one(
    clean_database: str, make_app: Callable[..., Flask]
) -> None:
    # Given 20 views submitted together (one group-commit batch: the writer lingers),
    # one of which no database stores
    app = make_app(DATABASE_URL=clean_database, INGEST_BATCH_LINGER_MS="100")
    site = add_site(app)
    sink = SINK.get(app)
    outcomes: dict[int, BaseException | None] = {}

    def submit(number: int) -> None:
        view = a_view(site, number)
        try:
            sink.submit([poisoned(view) if number == 7 else view])
            outcomes[number] = None
        except BaseException as error:
            outcomes[number] = error

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    # Then the 19 good ones are written, only the bad one is refused
    assert sink.committer.batches_written >= 1
    assert {n for n, e in outcomes.items() if e is None} == set(range(20)) - {7}
    assert isinstance(outcomes[7], ItemRefused)
    assert site_pageviews(app, site) == 19


def test_should_answer_rejected_and_count_it_when_the_store_refuses_a_hit(
    clean_database: str, make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an app whose pipeline lets a view past that the database refuses
    app = make_app(DATABASE_URL=clean_database)
    site = add_site(app)
    sink = SINK.get(app)
    original = sink.submit
    monkeypatch.setattr(sink, "submit", lambda views: original([poisoned(v) for v in views]))
    # When a hit comes
    reason = via_hits(app, site, "")
    # Then it is answered "rejected" (not store-unavailable) and counted so
    assert reason == "rejected"
    assert METRICS.get(app).snapshot().get("rejected") == 1
    assert site_pageviews(app, site) == 0


def write_to_stream(app: Flask, views: list[PageView], batch_id: str) -> None:
    keys = RedisKeys(SETTINGS.get(app).redis_key_prefix)
    stream_keys, argv = ingest_arguments(keys, batch_id, encode_views(views), views)
    Scripts(REDIS.get(app)).ingest(keys=stream_keys, args=argv)


@pytest.mark.parametrize("dirt", ["nul", "surrogate"])
def test_should_flush_a_dirty_hit_in_redis_mode(redis_app: Flask, dirt: str) -> None:
    # Given a hit with a NUL or a lone surrogate in its URL, answered accepted
    site = add_site(redis_app)
    assert via_hits(redis_app, site, DIRT[dirt]) == "accepted"
    # When flushed, then the database has it and the stream is empty
    assert flush(redis_app).views == 1
    assert site_pageviews(redis_app, site) == 1
    assert (
        int(REDIS.get(redis_app).xlen(RedisKeys(SETTINGS.get(redis_app).redis_key_prefix).stream))
        == 0
    )


def test_should_dead_letter_an_entry_the_flush_cannot_write_and_flush_the_rest(
    redis_app: Flask,
) -> None:
    # Given a stream entry no database stores between good ones
    site = add_site(redis_app)
    write_to_stream(redis_app, [a_view(site, 1)], "good-1")
    write_to_stream(redis_app, [poisoned(a_view(site, 2))], "bad")
    write_to_stream(redis_app, [a_view(site, 3), a_view(site, 4)], "good-2")
    flusher = get_flusher(redis_app)
    assert flusher is not None
    # When flushed: the good entries are written at once, the bad one stays pending
    flusher.flush(max_seconds=1)
    assert site_pageviews(redis_app, site) == 3
    dead = DeadLetters(REDIS.get(redis_app), SETTINGS.get(redis_app).redis_key_prefix)
    # and after a few more failed attempts it moves to the dead letters
    for _ in range(flusher.max_attempts):
        flusher.flush(max_seconds=1)
    assert dead.count() == 1
    assert flusher.backlog() == 0
    listed = dead.read()
    assert [letter.batch_id for letter in listed] == ["bad"]
    assert "surrogate" in listed[0].error or "encode" in listed[0].error
    # Then new hits flush again, the readiness probe shows the dead letter
    assert via_hits(redis_app, site, "") == "accepted"
    assert flush(redis_app).views == 1
    assert site_pageviews(redis_app, site) == 4
    ready = redis_app.test_client().get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json()["dead_letters"] == 1


def test_should_list_retry_and_drop_dead_letters_from_the_cli(redis_app: Flask) -> None:
    # Given one dead letter
    site = add_site(redis_app)
    write_to_stream(redis_app, [poisoned(a_view(site, 2))], "bad")
    flusher = get_flusher(redis_app)
    assert flusher is not None
    for _ in range(flusher.max_attempts + 1):
        flusher.flush(max_seconds=1)
    runner = redis_app.test_cli_runner()
    # When listed, then the CLI shows its batch id and error
    listed = runner.invoke(flush_command, ["--dead-letters", "list"])
    assert listed.exit_code == 0, listed.output
    assert "bad" in listed.output
    assert "1 dead letter" in listed.output
    # When retried, it goes back to the stream (and fails again: still one dead letter)
    retried = runner.invoke(flush_command, ["--dead-letters", "retry"])
    assert retried.exit_code == 0, retried.output
    assert flusher.backlog() == 1
    dead = DeadLetters(REDIS.get(redis_app), SETTINGS.get(redis_app).redis_key_prefix)
    assert dead.count() == 0
    for _ in range(flusher.max_attempts + 1):
        flusher.flush(max_seconds=1)
    assert dead.count() == 1
    # When dropped, it is gone
    dropped = runner.invoke(flush_command, ["--dead-letters", "drop"])
    assert dropped.exit_code == 0, dropped.output
    assert dead.count() == 0
    assert flusher.backlog() == 0
    assert site_pageviews(redis_app, site) == 0
