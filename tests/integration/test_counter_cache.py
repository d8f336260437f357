"""The counter reads served from caches (issue 13): Redis mode reads the database totals
cached in Redis (``P totals``, raised by the flush) and never queries the database once
they are cached; the numbers stay exact across reads, hits and flushes, on every
database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from flask import Flask

from page_tracker import create_app
from page_tracker.app import close_app
from page_tracker.buffer.flush import Flusher
from page_tracker.buffer.redis_keys import RedisKeys
from page_tracker.db import get_db, get_session
from page_tracker.redis_client import REDIS
from page_tracker.settings import load_settings
from page_tracker.sites.services import create_site
from page_tracker.stats.counters import COUNTERS, Counters, DatabaseCounterReader
from tests.integration.queries import count_queries
from tests.integration.test_redis_mode import BROWSERS, post_hits

BROWSER = BROWSERS[0]


def site_of(app: Flask) -> str:
    with app.app_context():
        session = get_session()
        site = create_site(session, "example.com", public_counters=True)
        session.commit()
        return site.id


def read(app: Flask, site: str, path: str) -> Counters:
    with app.app_context():
        return COUNTERS.get().read(site, path)


def database(app: Flask, site: str, path: str) -> Counters:
    with app.app_context():
        return DatabaseCounterReader(get_db().sessions.session_factory).read(site, path)


def flush(app: Flask, prefix: str) -> None:
    with app.app_context():
        Flusher(REDIS.get(app), prefix, get_db().sessions.session_factory).flush()


def test_should_read_exact_counters_from_the_cache_across_hits_and_flushes(
    redis_app: Flask, redis_prefix: str
) -> None:
    # Given a site read once before any hit (the cache holds its zero totals)
    site = site_of(redis_app)
    assert read(redis_app, site, "/p1").page_pv == 0

    # When hits arrive, are flushed, and more arrive, with reads in between
    post_hits(redis_app, site, 40)
    unflushed = read(redis_app, site, "/p1")
    flush(redis_app, redis_prefix)
    after_flush = read(redis_app, site, "/p1")
    post_hits(redis_app, site, 15)
    before_second_flush = read(redis_app, site, "/p1")
    flush(redis_app, redis_prefix)

    # Then every read counted each hit exactly once, and after the flush the cache
    # agrees with the database
    assert (unflushed.site_pv, unflushed.page_pv) == (40, 8)
    assert (after_flush.site_pv, after_flush.page_pv) == (40, 8)
    assert (before_second_flush.site_pv, before_second_flush.page_pv) == (55, 11)
    for path in ("/p0", "/p1", "/p4"):
        cached, stored = read(redis_app, site, path), database(redis_app, site, path)
        assert (
            (cached.site_pv, cached.page_pv)
            == (stored.site_pv, stored.page_pv)
            == (
                55,
                11,
            )
        )
    client: redis.Redis = REDIS.get(redis_app)
    assert client.hgetall(RedisKeys(redis_prefix).pending) == {}


def test_should_read_cached_counters_without_a_database_query(
    redis_app: Flask, redis_prefix: str
) -> None:
    site = site_of(redis_app)
    post_hits(redis_app, site, 10)
    flush(redis_app, redis_prefix)
    read(redis_app, site, "/p2")  # the first read of a page may fill the cache
    queries = count_queries(redis_app)

    counters = [read(redis_app, site, "/p2") for _ in range(20)]

    assert queries() == 0
    assert {(c.site_pv, c.page_pv) for c in counters} == {(10, 2)}


def test_should_take_up_hits_counted_while_the_cache_was_empty(
    redis_app: Flask, redis_prefix: str
) -> None:
    # Given hits flushed while nobody read the counters, then the cache lost
    site = site_of(redis_app)
    post_hits(redis_app, site, 20)
    flush(redis_app, redis_prefix)
    client: redis.Redis = REDIS.get(redis_app)
    client.delete(RedisKeys(redis_prefix).totals)

    # When the counters are read (and more hits arrive, unflushed)
    post_hits(redis_app, site, 5)

    # Then the database's totals are cached again and the pending hits added to them
    assert (read(redis_app, site, "/p0").site_pv, read(redis_app, site, "/p0").page_pv) == (
        25,
        5,
    )


@pytest.fixture
def embedded_app(tmp_path: Path, clean_database: str) -> Iterator[Flask]:
    settings = load_settings(
        LOG_DIR=str(tmp_path / "log"), PAGE_TRACKER_ENV="test", DATABASE_URL=clean_database
    )
    app = create_app(settings=settings, configure_logging=False)
    yield app
    close_app(app)


def test_should_keep_embedded_counters_exact_from_the_group_commit(embedded_app: Flask) -> None:
    # Given a site whose counters were read once (cached in-process)
    site = site_of(embedded_app)
    assert read(embedded_app, site, "/p3").page_pv == 0

    # When hits are written by the group commit from parallel clients
    post_hits(embedded_app, site, 45)
    queries = count_queries(embedded_app)

    # Then reads, answered from the cache, equal the database, without a query
    cached = [read(embedded_app, site, "/p3") for _ in range(10)]
    assert queries() == 0
    stored = database(embedded_app, site, "/p3")
    assert set(cached) == {stored}
    assert (stored.site_pv, stored.page_pv) == (45, 9)
    assert (stored.site_uv, stored.page_uv) == (45, 9)


def test_should_answer_busuanzi_with_its_own_hit_in_embedded_mode(embedded_app: Flask) -> None:
    site = site_of(embedded_app)
    client = embedded_app.test_client()
    answers = [
        client.get(
            "/busuanzi?jsonpCallback=cb",
            headers={"Referer": "https://example.com/post", "User-Agent": BROWSER},
            environ_base={"REMOTE_ADDR": f"198.51.100.{n}"},
        ).get_data(as_text=True)
        for n in range(5)
    ]

    assert [answer.split('"site_pv":')[1].split("}")[0] for answer in answers] == [
        "1",
        "2",
        "3",
        "4",
        "5",
    ]
    assert database(embedded_app, site, "/post").page_pv == 5
