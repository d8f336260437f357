"""Redis mode counts a Busuanzi hit and reads its counters in one script call (issue 13
item 2): the ingest call of the hit's batch returns the page's counters, which include
the hit itself and equal what a separate read says; other readers still read Redis."""

from __future__ import annotations

from dataclasses import replace

import redis
from flask import Flask

from page_tracker.buffer.redis_counters import BatchCounts, RedisCounterReader
from page_tracker.buffer.redis_keys import RedisKeys
from page_tracker.buffer.redis_sink import RedisSink
from page_tracker.db import get_db
from page_tracker.redis_client import REDIS
from page_tracker.stats.counters import Counters
from page_tracker.stats.pageview import PageView
from tests.integration.test_counter_cache import site_of
from tests.integration.test_redis_mode import view as pixel_view

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"


def view(site: str, visitor: int, path: str, source: str) -> PageView:
    return replace(pixel_view(site, visitor, path), source=source)


def busuanzi(app: Flask, path: str = "/post-1", address: str = "198.51.100.7") -> bytes:
    answer = app.test_client().get(
        "/busuanzi?jsonpCallback=cb",
        headers={"Referer": f"https://example.com{path}", "User-Agent": BROWSER},
        environ_base={"REMOTE_ADDR": address},
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_data()


def reader_and_sink(app: Flask, prefix: str) -> tuple[RedisCounterReader, RedisSink]:
    with app.app_context():
        sessions = get_db().sessions.session_factory
        counts = BatchCounts()
        client = REDIS.get(app)
        return (
            RedisCounterReader(client, prefix, sessions, counts),
            RedisSink(client, prefix, sessions, batch_counts=counts),
        )


def test_should_answer_busuanzi_with_counters_including_its_own_hit(redis_app: Flask) -> None:
    site_of(redis_app)
    answers = [busuanzi(redis_app, address=f"198.51.100.{n}") for n in range(1, 4)]

    # every answer counts its own hit: page and site views 1, 2, 3; a new visitor each
    for n, answer in enumerate(answers, start=1):
        assert answer == (
            b'try{cb({"site_uv":%d,"page_pv":%d,"version":2.4,"site_pv":%d});}catch(e){}'
            % (n, n, n)
        )


def test_should_return_the_counters_of_busuanzi_pages_from_the_ingest_call(
    redis_app: Flask, redis_prefix: str
) -> None:
    # Given a page read once (its visitors seeded and totals cached in Redis)
    site = site_of(redis_app)
    reader, sink = reader_and_sink(redis_app, redis_prefix)
    with redis_app.app_context():
        assert reader.read(site, "/p") == Counters()
        # When a batch with two Busuanzi views of /p and a pixel view of /q is written
        hits = [view(site, n, path="/p", source="busuanzi") for n in range(2)]
        sink.submit([*hits, view(site, 9, path="/q", source="pixel")])

        # Then its ingest call returned /p's counters, with both hits, as a read says
        assert reader.batch_counts.get(site, "/p") is not None
        assert reader.batch_counts.get(site, "/q") is None  # no Busuanzi view: not read
        after_hit = reader.read_after_hit(site, "/p")
        assert after_hit == reader.read(site, "/p")
        assert (after_hit.page_pv, after_hit.site_pv, after_hit.page_uv) == (2, 3, 2)


def test_should_read_redis_when_the_batch_counts_lack_a_key(
    redis_app: Flask, redis_prefix: str
) -> None:
    # A page never read has no seeded visitors nor cached totals: the reply says so and
    # the read after the hit loads them like any read
    site = site_of(redis_app)
    reader, sink = reader_and_sink(redis_app, redis_prefix)
    with redis_app.app_context():
        sink.submit([view(site, 1, path="/new", source="busuanzi")])
        counted = reader.batch_counts.get(site, "/new")
        assert counted is not None
        assert counted[4:6] == [0, 0]  # not seeded yet

        assert reader.read_after_hit(site, "/new").page_pv == 1
        assert RedisKeys(redis_prefix).seeded(site, "/new").encode() in set(
            REDIS.get(redis_app).keys(f"{redis_prefix}*")
        )


def test_should_forget_a_batch_written_to_the_database_instead(
    redis_app: Flask, redis_prefix: str
) -> None:
    site = site_of(redis_app)
    reader, sink = reader_and_sink(redis_app, redis_prefix)
    with redis_app.app_context():
        reader.read(site, "/p")
        sink.submit([view(site, 1, path="/p", source="busuanzi")])
        assert reader.batch_counts.get(site, "/p") is not None
        # When Redis is gone for the next batch (a client on a closed port)
        sink.client = redis.Redis(port=1, socket_connect_timeout=0.2)
        sink.scripts = type(sink.scripts)(sink.client)
        sink.submit([view(site, 2, path="/p", source="busuanzi")])
        # Then the page's batch numbers (older than that hit) are not used
        assert reader.batch_counts.get(site, "/p") is None
