"""The per-address ingest limit (INGEST_RATE_LIMIT) on every counting route: beyond it a
hit gets its normal answer with reason ``rate-limited`` and is not counted; in Redis
mode the limit holds across processes."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient

from page_tracker.metrics import METRICS
from page_tracker.stats.counters import COUNTERS
from tests.integration.sites import add_site

CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)


def post_hit(client: FlaskClient, site: str, ip: str) -> str:
    answer = client.post(
        "/api/v1/hits",
        data=json.dumps({"site": site, "url": "https://example.com/a"}),
        headers={"User-Agent": CHROME, "Content-Type": "text/plain"},
        environ_base={"REMOTE_ADDR": ip},
    )
    assert answer.status_code == 202
    return answer.headers["X-Page-Tracker-Reason"]


def site_views(app: Flask, site: str) -> int:
    with app.app_context():
        return COUNTERS.get().read(site, "/").site_pv


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_should_answer_but_not_count_hits_beyond_the_limit(
    make_app: Callable[..., Flask], clean_database: str
) -> None:
    app = make_app(DATABASE_URL=clean_database, INGEST_RATE_LIMIT="3/hour")
    site = add_site(app)
    client = app.test_client()
    reasons = [post_hit(client, site, "198.51.100.7") for _ in range(5)]
    assert reasons == ["accepted"] * 3 + ["rate-limited"] * 2
    assert post_hit(client, site, "198.51.100.8") == "accepted"
    # The pixel and Busuanzi answer as usual too
    pixel = client.get(
        f"/count.gif?site={site}&url=https://example.com/b",
        headers={"User-Agent": CHROME},
        environ_base={"REMOTE_ADDR": "198.51.100.7"},
    )
    assert pixel.status_code == 200
    assert pixel.mimetype == "image/gif"
    assert pixel.headers["X-Page-Tracker-Reason"] == "rate-limited"
    busuanzi = client.get(
        "/busuanzi?jsonpCallback=cb",
        headers={"User-Agent": CHROME, "Referer": "https://example.com/c"},
        environ_base={"REMOTE_ADDR": "198.51.100.7"},
    )
    assert busuanzi.status_code == 200
    assert busuanzi.get_data(as_text=True).startswith("try{cb(")
    assert busuanzi.headers["X-Page-Tracker-Reason"] == "rate-limited"
    assert site_views(app, site) == 4
    assert METRICS.get(app).snapshot()["rate-limited"] == 4


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_should_leave_a_real_reader_alone_by_default(
    make_app: Callable[..., Flask], clean_database: str
) -> None:
    # A reader who opens 100 pages within a minute (far more than anyone reads)
    app = make_app(DATABASE_URL=clean_database)
    site = add_site(app)
    client = app.test_client()
    assert {post_hit(client, site, "198.51.100.7") for _ in range(100)} == {"accepted"}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_should_hold_the_limit_across_processes_in_redis_mode(
    make_app: Callable[..., Flask], clean_database: str, redis_url: str, redis_prefix: str
) -> None:
    # Given two processes (apps) on one Redis, 20 hits an hour per address
    env = {
        "DATABASE_URL": clean_database,
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": redis_prefix,
        "INGEST_RATE_LIMIT": "20/hour",
        "SECRET_KEY": "one-key-for-every-process-" + redis_prefix,  # keys the address hash
    }
    first, second = make_app(**env), make_app(**env)
    site = add_site(first)
    clients = [first.test_client(), second.test_client()]
    try:
        # When one address sends 40 hits, alternating between them
        reasons = [post_hit(clients[n % 2], site, "203.0.113.50") for n in range(40)]
        # Then 20 are counted in all
        assert reasons.count("accepted") == 20
        assert site_views(first, site) == 20
        # And Redis holds the count under a hash, never the address
        client = redis.Redis.from_url(redis_url)
        keys = [key.decode() for key in client.scan_iter(f"{redis_prefix}rl:*")]
        assert keys
        assert not any("203.0.113" in key for key in keys)
    finally:
        client = redis.Redis.from_url(redis_url)
        stale = list(client.scan_iter(f"{redis_prefix}*"))
        if stale:
            client.delete(*stale)
        client.close()


def test_should_fall_back_to_the_process_count_when_redis_is_down() -> None:
    from page_tracker.ingest.rate_limit import (  # noqa: PLC0415
        REDIS_PAUSE,
        IngestLimiter,
        RedisWindowCounter,
    )
    from page_tracker.redis_client import make_redis_client  # noqa: PLC0415
    from page_tracker.settings import RateLimit  # noqa: PLC0415
    from tests.e2e.server import free_port  # noqa: PLC0415

    # A Redis address where nothing listens
    down = make_redis_client(f"redis://127.0.0.1:{free_port()}/0")
    limiter = IngestLimiter(RateLimit(20, 3600), RedisWindowCounter(down, "pt:", bytes(32)))
    allowed = [limiter.allow("198.51.100.7", 100.0) for _ in range(25)]
    assert allowed == [True] * 20 + [False] * 5
    # And it is asked again only after a pause
    assert limiter._shared_paused_until == 100.0 + REDIS_PAUSE
    down.close()
