"""Redis mode on a full Redis (``maxmemory 2mb``, ``noeviction``: every write that could
grow memory is refused): ingest keeps answering and stores through the database, a
worker that starts while Redis is full takes the day's salt from the database, the flush
still drains the stream, and the database holds exactly the hits answered ``accepted``.

Each test starts its own capped redis-server on a free port (the shared one is never
reconfigured)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis
from flask import Flask
from sqlalchemy import select

from page_tracker import create_app
from page_tracker.app import close_app
from page_tracker.buffer.redis_keys import RedisKeys
from page_tracker.buffer.redis_sink import REDIS_FALLBACK
from page_tracker.buffer.tasks import flush
from page_tracker.db import get_session
from page_tracker.ingest.models import Salt
from page_tracker.metrics import METRICS
from page_tracker.settings import load_settings
from page_tracker.stats.cli import stats
from page_tracker.stats.counters import COUNTERS, Counters
from page_tracker.stats.models import SITE, DailyCount, Total
from tests.integration.sites import add_site
from tests.services import RedisServer, fill_redis, free_redis, redis_is_full

BROWSERS = [
    f"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 "
    "Safari/537.36"
    for v in range(118, 126)
]


@pytest.fixture
def redis_client(capped_redis: RedisServer) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(capped_redis.url)
    yield client
    client.close()


@pytest.fixture
def make_worker(
    tmp_path: Path, clean_database: str, capped_redis: RedisServer
) -> Iterator[Callable[[], Flask]]:
    """Build page-tracker processes (apps) on the capped Redis and one database."""
    apps: list[Flask] = []

    def build() -> Flask:
        settings = load_settings(
            LOG_DIR=str(tmp_path / "log"),
            PAGE_TRACKER_ENV="test",
            DATABASE_URL=clean_database,
            REDIS_URL=capped_redis.url,
        )
        apps.append(create_app(settings=settings, configure_logging=False))
        return apps[-1]

    yield build
    for app in apps:
        close_app(app)


def post_hits(app: Flask, site: str, first: int, count: int) -> list[str]:
    """Hits ``first .. first+count-1`` from 8 parallel clients; the reasons answered.
    Hit n is on page ``/p{n % 5}`` by visitor ``n % 50``."""

    def one(number: int) -> str:
        response = app.test_client().post(
            "/api/v1/hits",
            data=json.dumps({"site": site, "url": f"https://example.com/p{number % 5}"}),
            headers={"Content-Type": "text/plain", "User-Agent": BROWSERS[number % 50 % 8]},
            environ_base={"REMOTE_ADDR": f"198.51.100.{number % 50}"},
        )
        assert response.status_code == 202
        return response.headers["X-Page-Tracker-Reason"]

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, range(first, first + count)))


def fallback_writes(app: Flask) -> int:
    return METRICS.get(app).snapshot().get(REDIS_FALLBACK, 0)


def database_counts(app: Flask, site: str) -> tuple[int, int]:
    """All-time page views and today's visitors of ``site`` in the database."""
    today = datetime.now(UTC).date()
    with app.app_context():
        session = get_session()
        views = session.scalar(
            select(Total.pageviews).where(Total.site_id == site, Total.path_id == SITE)
        )
        visitors = session.scalar(
            select(DailyCount.visitors).where(
                DailyCount.site_id == site, DailyCount.path_id == SITE, DailyCount.day == today
            )
        )
        return int(views or 0), int(visitors or 0)


def database_salt(app: Flask) -> bytes | None:
    with app.app_context():
        return get_session().scalar(select(Salt.salt).where(Salt.day == datetime.now(UTC).date()))


@pytest.mark.timeout(120)
def test_should_store_every_accepted_hit_once_while_redis_is_full_and_drain_it_after(
    make_worker: Callable[[], Flask], redis_client: redis.Redis
) -> None:
    keys = RedisKeys("pt:")
    salt_key = f"pt:salt:{datetime.now(UTC).date().isoformat()}"
    first = make_worker()
    site = add_site(first)
    # Given Redis full before the day's first hit (no salt in Redis yet) and before the
    # first flush (no consumer group yet)
    fill_redis(redis_client)
    # When a worker started before and one started while Redis is full take hits
    second = make_worker()
    reasons = post_hits(first, site, 0, 100) + post_hits(second, site, 100, 100)
    # Then every hit is accepted and written through the database; the salt is the database's
    assert reasons == ["accepted"] * 200
    assert fallback_writes(first) + fallback_writes(second) == 200
    assert redis_client.get(salt_key) is None
    salt = database_salt(first)
    assert salt is not None
    # When memory is freed, a third worker creates the salt in Redis: the database's one
    free_redis(redis_client)
    third = make_worker()
    reasons += post_hits(third, site, 200, 100)
    assert redis_client.get(salt_key) == salt
    assert redis_client.xlen(keys.stream) > 0
    # When Redis fills up again with hits waiting in the stream
    fill_redis(redis_client)
    reasons += post_hits(third, site, 300, 100)
    assert reasons == ["accepted"] * 400
    fill_redis(redis_client)  # topped up: writes squeezed in at the edge of the cap
    assert redis_is_full(redis_client)
    # Then the flush drains the stream although Redis is still full
    result = flush(third)
    assert result.views > 0
    assert redis_client.xlen(keys.stream) == 0
    assert redis_client.hgetall(keys.pending) == {}
    # and the database holds every accepted hit exactly once, hashed with one salt
    assert database_counts(third, site) == (400, 50)


BUSUANZI = re.compile(
    r'try\{cb\(\{"site_uv":(\d+),"page_pv":(\d+),"version":2\.4,"site_pv":(\d+)\}\);'
)


def busuanzi(app: Flask, page: str) -> tuple[int, int, int]:
    """A Busuanzi request for ``page``: the answer's site_uv, page_pv, site_pv."""
    response = app.test_client(use_cookies=False).get(
        "/busuanzi",
        query_string={"jsonpCallback": "cb"},
        headers={"Referer": f"https://example.com{page}", "User-Agent": BROWSERS[0]},
        environ_base={"REMOTE_ADDR": "198.51.100.0"},
    )
    match = BUSUANZI.search(response.get_data(as_text=True))
    assert match is not None, response.get_data(as_text=True)
    return int(match[1]), int(match[2]), int(match[3])


@pytest.mark.timeout(120)
def test_should_answer_every_read_while_redis_is_full_and_while_it_is_down(
    make_worker: Callable[[], Flask], redis_client: redis.Redis, capped_redis: RedisServer
) -> None:
    app = make_worker()
    site = add_site(app)
    # Given 100 hits in the database, 20 more pending in Redis, and Redis full
    post_hits(app, site, 0, 100)
    assert flush(app).views == 100
    post_hits(app, site, 100, 20)
    fill_redis(redis_client)
    # When the counters are read (the visitor keys were never seeded: Redis refuses it)
    with app.app_context():
        counters = COUNTERS.get().read(site, "/p0")
    # Then they are the database's totals plus the pending counts Redis can still read
    assert counters == Counters(site_pv=120, site_uv=50, page_pv=24, page_uv=10)
    # and Busuanzi answers with numbers (its own hit stored through the database)
    assert busuanzi(app, "/p0") == (51, 25, 121)  # a reader without a cookie is new
    # and the statistics command prints the site's numbers
    printed = app.test_cli_runner().invoke(stats, [site])
    assert printed.exit_code == 0, printed.output
    assert "121 page views, 51 visitors all time" in printed.output
    # When Redis is down altogether
    capped_redis.kill()
    # Then every read still answers, from the database (pending hits show after the flush)
    with app.app_context():
        assert COUNTERS.get().read(site, "/p0") == Counters(101, 51, 21, 11)
    assert busuanzi(app, "/p0")[2] >= 101
    printed = app.test_cli_runner().invoke(stats, [site])
    assert printed.exit_code == 0, printed.output
    assert "Traceback" not in printed.output
