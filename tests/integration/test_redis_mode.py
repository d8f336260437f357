"""Redis mode on the real Redis and each database: hits written to Redis, counted by the
counter endpoints before the flush, and exactly once in the database after it - also
when the flush is interrupted at any point or the database is down during it."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from page_tracker import create_app
from page_tracker.app import close_app
from page_tracker.buffer.flush import Flusher
from page_tracker.buffer.models import FlushedBatch
from page_tracker.buffer.redis_keys import RedisKeys
from page_tracker.buffer.redis_sink import RedisSink
from page_tracker.buffer.tasks import flush, get_flusher
from page_tracker.db import get_db, get_session
from page_tracker.ingest.models import Salt
from page_tracker.ingest.salts import SALTS
from page_tracker.metrics import METRICS
from page_tracker.redis_client import REDIS
from page_tracker.settings import SETTINGS, load_settings
from page_tracker.sites.services import create_site
from page_tracker.stats.counters import COUNTERS
from page_tracker.stats.models import SITE, Total
from page_tracker.stats.pageview import PageView
from tests.services import RedisServer, TcpProxy

BROWSERS = [
    f"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 "
    "Safari/537.36"
    for v in range(118, 126)
]


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


def add_site(app: Flask, domain: str = "example.com") -> str:
    with app.app_context():
        session = get_session()
        site = create_site(session, domain)
        session.commit()
        return site.id


def post_hits(app: Flask, site: str, count: int, threads: int = 8) -> list[str]:
    """``count`` hits from ``threads`` parallel clients; the reasons answered. Hit n is on
    page ``/p{n % 5}`` by visitor ``n % 50``."""

    def one(number: int) -> str:
        response = app.test_client().post(
            "/api/v1/hits",
            data=json.dumps({"site": site, "url": f"https://example.com/p{number % 5}"}),
            headers={"Content-Type": "text/plain", "User-Agent": BROWSERS[number % 50 % 8]},
            environ_base={"REMOTE_ADDR": f"198.51.100.{number % 50}"},
        )
        assert response.status_code == 202
        return response.headers["X-Page-Tracker-Reason"]

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(one, range(count)))


def database_pageviews(app: Flask, site: str) -> int:
    with app.app_context():
        value = get_session().scalar(
            select(Total.pageviews).where(Total.site_id == site, Total.path_id == SITE)
        )
        return int(value or 0)


def backlog(app: Flask) -> tuple[int, dict[bytes, bytes]]:
    client: redis.Redis = REDIS.get(app)
    keys = RedisKeys(SETTINGS.get(app).redis_key_prefix)
    return int(client.xlen(keys.stream)), client.hgetall(keys.pending)


def test_should_count_hits_before_the_flush_and_exactly_once_after_it(redis_app: Flask) -> None:
    # Given a site and 200 hits from 8 parallel clients
    site = add_site(redis_app)
    reasons = post_hits(redis_app, site, 200)
    assert reasons == ["accepted"] * 200
    # Then the counters include them before any flush, the database does not yet
    with redis_app.app_context():
        before = COUNTERS.get().read(site, "/p1")
    assert (before.site_pv, before.page_pv) == (200, 40)
    assert (before.site_uv, before.page_uv) == (50, 10)
    assert database_pageviews(redis_app, site) == 0
    # When flushed
    result = flush(redis_app)
    # Then the database holds each hit once, Redis holds nothing pending
    assert result.views == 200
    assert database_pageviews(redis_app, site) == 200
    assert backlog(redis_app) == (0, {})
    with redis_app.app_context():
        assert COUNTERS.get().read(site, "/p1") == before
    # and a second flush finds nothing to do
    assert flush(redis_app).entries == 0
    assert database_pageviews(redis_app, site) == 200


class Crash(Exception):
    pass


def crash_at(point: str) -> Callable[[str], None]:
    def checkpoint(name: str) -> None:
        if name == point:
            raise Crash(point)

    return checkpoint


@pytest.mark.parametrize("point", ["claimed", "committed", "acked"])
def test_should_neither_lose_nor_double_hits_when_a_flush_stops_midway(
    redis_app: Flask, point: str
) -> None:
    site = add_site(redis_app)
    post_hits(redis_app, site, 60)
    with redis_app.app_context():
        flusher = get_flusher(redis_app)
        assert flusher is not None
        with pytest.raises(Crash):
            flusher.flush(checkpoint=crash_at(point))
        # the same process flushes again: its own pending entries first
        flusher.flush()
        assert COUNTERS.get().read(site, "/p0").site_pv == 60

    assert database_pageviews(redis_app, site) == 60
    assert backlog(redis_app) == (0, {})


FLUSH_AND_DIE = textwrap.dedent(
    """
    import os, signal, sys
    from page_tracker.app import create_app
    from page_tracker.settings import load_settings
    from page_tracker.buffer.tasks import get_flusher

    point = sys.argv[1]
    app = create_app(settings=load_settings(PAGE_TRACKER_ENV="test"), configure_logging=False)
    def die(name):
        if name == point:
            os.kill(os.getpid(), signal.SIGKILL)
    with app.app_context():
        get_flusher(app).flush(checkpoint=die)
    """
)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("point", ["claimed", "committed"])
def test_should_recover_the_batches_of_a_flusher_killed_with_sigkill(
    redis_app: Flask, point: str, clean_database: str, redis_url: str, tmp_path: Path
) -> None:
    # Given hits in Redis and a flusher process killed -9 at a point of its flush
    site = add_site(redis_app)
    post_hits(redis_app, site, 80)
    prefix = SETTINGS.get(redis_app).redis_key_prefix
    env = {
        "DATABASE_URL": clean_database,
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": prefix,
        "LOG_DIR": str(tmp_path / "log"),
        "PATH": "/usr/bin:/bin",
    }
    done = subprocess.run(
        [sys.executable, "-c", FLUSH_AND_DIE, point],
        env=env,
        cwd=tmp_path,
        timeout=90,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == -9, done.stderr
    stream_len, _pending = backlog(redis_app)
    assert stream_len > 0  # its entries were claimed, not acknowledged
    # When another flusher takes over the dead consumer's entries
    with redis_app.app_context():
        survivor = Flusher(
            REDIS.get(redis_app),
            prefix,
            get_db().sessions.session_factory,
            claim_idle_ms=0,
            forget_consumers_after_ms=0,
        )
        result = survivor.flush()
        # the dead flusher's consumer is forgotten once nothing is pending for it
        consumers = REDIS.get(redis_app).xinfo_consumers(RedisKeys(prefix).stream, "flush")
        assert [c["name"] for c in consumers] == [survivor.consumer.encode()]
    # Then every hit is counted once
    assert database_pageviews(redis_app, site) == 80
    assert backlog(redis_app) == (0, {})
    if point == "committed":
        assert result.duplicates > 0
        assert result.views == 0


def test_should_count_a_batch_written_twice_to_the_stream_once(redis_app: Flask) -> None:
    # A client retry after a lost reply writes the same batch (same id) twice.
    site = add_site(redis_app)
    post_hits(redis_app, site, 10)
    client: redis.Redis = REDIS.get(redis_app)
    keys = RedisKeys(SETTINGS.get(redis_app).redis_key_prefix)
    entries = client.xrange(keys.stream)
    for _, fields in entries:
        client.xadd(keys.stream, fields)

    flush(redis_app)

    assert database_pageviews(redis_app, site) == 10
    assert client.xlen(keys.stream) == 0


@pytest.mark.parametrize("database_url", ["mariadb", "postgresql"], indirect=True)
def test_should_keep_hits_pending_while_the_database_is_down_and_flush_them_later(
    make_app: Callable[..., Flask], clean_database: str, redis_url: str, redis_prefix: str
) -> None:
    # Given a database reached through a proxy we can cut
    url = make_url(clean_database)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 0)
    try:
        proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        app = make_app(DATABASE_URL=proxied, REDIS_URL=redis_url, REDIS_KEY_PREFIX=redis_prefix)
        site = add_site(app)
        post_hits(app, site, 50)

        # When the database goes down in the middle of a flush
        def cut(name: str) -> None:
            if name == "claimed":
                proxy.cut()

        with app.app_context():
            flusher = get_flusher(app)
            assert flusher is not None
            with pytest.raises(Exception):  # noqa: B017, PT011 - whatever the driver raises
                flusher.flush(checkpoint=cut)
            assert flush(app).entries == 0  # still down: the task logs and retries later
        # Then nothing was lost: once it is back the next flush counts each hit once
        proxy.restore()
        flush(app)
        assert database_pageviews(app, site) == 50
        assert backlog(app) == (0, {})
    finally:
        proxy.close()
        client = redis.Redis.from_url(redis_url)
        keys = list(client.scan_iter(f"{redis_prefix}*"))
        if keys:
            client.delete(*keys)
        client.close()


def view(site: str, visitor: int, path: str = "/") -> PageView:
    token = visitor.to_bytes(16, "big")
    return PageView(
        site_id=site,
        path=path,
        hostname="example.com",
        timestamp=datetime.now(UTC),
        visitor=token,
        lifetime_visitor=token,
    )


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_should_count_uniques_exactly_below_1000_and_within_2_percent_above(
    redis_app: Flask,
) -> None:
    site = add_site(redis_app)
    sink = RedisSink(
        REDIS.get(redis_app),
        SETTINGS.get(redis_app).redis_key_prefix,
    )
    for start in range(0, 999, 333):
        sink.submit([view(site, n) for n in range(start, start + 333)])
    with redis_app.app_context():
        assert COUNTERS.get().read(site, "/").site_uv == 999
        sink.submit([view(site, n) for n in range(500, 12_000)])  # 11 001 new, 500 again
        counted = COUNTERS.get().read(site, "/")
    assert counted.site_pv == 999 + 11_500
    assert abs(counted.site_uv - 12_000) <= 240


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_should_seed_visitor_sets_from_the_database_when_redis_lost_them(
    redis_app: Flask,
) -> None:
    # Given flushed hits whose Redis visitor sets are gone (Redis emptied)
    site = add_site(redis_app)
    post_hits(redis_app, site, 100)
    flush(redis_app)
    client: redis.Redis = REDIS.get(redis_app)
    prefix = SETTINGS.get(redis_app).redis_key_prefix
    client.delete(*client.scan_iter(f"{prefix}uv*"))
    # When the counters are read
    with redis_app.app_context():
        counted = COUNTERS.get().read(site, "/p2")
        # Then the uniques come back from the database's visitor rows
        assert (counted.site_pv, counted.site_uv) == (100, 50)
        assert (counted.page_pv, counted.page_uv) == (20, 10)
        batches = get_session().scalar(select(func.count()).select_from(FlushedBatch))
    assert batches is not None
    assert batches >= 1


@pytest.mark.timeout(120)
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_should_keep_every_accepted_hit_when_redis_restarts_mid_load(
    make_app: Callable[..., Flask], clean_database: str, tmp_path: Path
) -> None:
    # Given our own Redis with an append-only file fsynced on every write
    server = RedisServer(tmp_path / "redis").start()
    try:
        app = make_app(DATABASE_URL=clean_database, REDIS_URL=server.url)
        site = add_site(app)
        reasons = post_hits(app, site, 40, threads=4)
        # When it is killed -9 under load, and restarted while the load goes on
        with ThreadPoolExecutor(1) as pool:
            during = pool.submit(post_hits, app, site, 300, 4)
            server.kill()
            server.start()
            reasons += during.result(timeout=60)
        reasons += post_hits(app, site, 40, threads=4)
        # Then every hit was answered, and every accepted one is counted once
        accepted = reasons.count("accepted")
        assert accepted + reasons.count("store-unavailable") == 380
        assert accepted >= 80
        flush(app)
        assert database_pageviews(app, site) == accepted
        assert backlog(app) == (0, {})
    finally:
        server.kill()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_should_count_each_batch_once_when_redis_forgot_the_ingest_script(
    make_app: Callable[..., Flask], clean_database: str, tmp_path: Path
) -> None:
    # Given a sink that ran its script (Redis knows it), on our own Redis
    server = RedisServer(tmp_path / "redis").start()
    try:
        app = make_app(DATABASE_URL=clean_database, REDIS_URL=server.url)
        site = add_site(app)
        assert post_hits(app, site, 10, threads=2) == ["accepted"] * 10
        # When Redis forgets its scripts (SCRIPT FLUSH, as after a restart): the sink's
        # pipeline gets NOSCRIPT and must load and run the script once, not skip or repeat
        client: redis.Redis = REDIS.get(app)
        client.script_flush()
        assert post_hits(app, site, 20, threads=4) == ["accepted"] * 20
        # Then every hit is in the stream and in pending once, and flushed once
        keys = RedisKeys(SETTINGS.get(app).redis_key_prefix)
        assert int(client.hget(keys.pending, f"s:{site}") or 0) == 30
        assert METRICS.get(app).snapshot().get("redis-fallback", 0) == 0
        flush(app)
        assert database_pageviews(app, site) == 30
        assert backlog(app) == (0, {})
    finally:
        server.kill()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_should_write_to_the_database_when_redis_is_down(
    make_app: Callable[..., Flask], clean_database: str, tmp_path: Path
) -> None:
    server = RedisServer(tmp_path / "redis").start()
    try:
        app = make_app(DATABASE_URL=clean_database, REDIS_URL=server.url)
        site = add_site(app)
        post_hits(app, site, 10, threads=1)  # today's salt is now known to the process
        server.kill()

        reasons = post_hits(app, site, 20, threads=4)

        assert reasons == ["accepted"] * 20
        assert database_pageviews(app, site) == 20
        metrics = METRICS.get(app).snapshot()
        assert metrics["redis-fallback"] == 20
        server.start()
        flush(app)
        assert database_pageviews(app, site) == 30
    finally:
        server.kill()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_should_take_the_salt_from_the_database_when_redis_is_down_from_the_start(
    make_app: Callable[..., Flask], clean_database: str, tmp_path: Path
) -> None:
    # Given Redis mode with a Redis that is down before any hit (no salt cached)
    server = RedisServer(tmp_path / "redis").start()
    try:
        app = make_app(DATABASE_URL=clean_database, REDIS_URL=server.url)
        site = add_site(app)
        server.stop()
        # When hits arrive
        reasons = post_hits(app, site, 10, threads=2)
        # Then they are written to the database, hashed with the database's salt
        assert reasons == ["accepted"] * 10
        assert database_pageviews(app, site) == 10
        with app.app_context():
            stored = get_session().scalars(select(Salt.salt)).all()
        assert len(stored) == 1
        # And once Redis is back, a fresh process agrees on that salt (no visitor is
        # counted twice on the day Redis came back)
        server.start()
        fresh = make_app(DATABASE_URL=clean_database, REDIS_URL=server.url)
        assert SALTS.get(fresh).salt_for(datetime.now(UTC).date()) == stored[0]
    finally:
        server.kill()


def test_should_forget_batch_ids_after_a_week(redis_app: Flask) -> None:
    site = add_site(redis_app)
    post_hits(redis_app, site, 5, threads=1)
    flush(redis_app)
    flusher = get_flusher(redis_app)
    assert flusher is not None

    assert flusher.forget_old_batches() == 0
    assert flusher.forget_old_batches(datetime.now(UTC) + timedelta(days=8)) >= 1


def test_should_flush_nothing_in_embedded_mode(
    make_app: Callable[..., Flask], clean_database: str
) -> None:
    app = make_app(DATABASE_URL=clean_database)
    assert get_flusher(app) is None
    assert flush(app).entries == 0
