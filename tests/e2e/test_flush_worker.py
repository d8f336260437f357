"""A real ``page-tracker worker`` (Celery, broker on our own Redis) killed with SIGKILL in
the middle of a flush: another flusher takes over and every hit is counted once."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis
from celery import Celery
from sqlalchemy import create_engine, text
from sqlalchemy.orm import sessionmaker

from page_tracker.buffer.flush import Flusher
from page_tracker.buffer.redis_keys import RedisKeys
from page_tracker.buffer.redis_sink import RedisSink
from page_tracker.db import make_engine
from page_tracker.stats.pageview import PageView
from tests.e2e.server import Server, page_tracker_command
from tests.services import RedisServer

HITS = 30_000


def views(site: str, start: int, count: int) -> list[PageView]:
    now = datetime.now(UTC)
    return [
        PageView(
            site_id=site,
            path=f"/w{n % 50}",
            hostname="example.com",
            timestamp=now,
            visitor=(n % 3000).to_bytes(16, "big"),
            lifetime_visitor=(n % 3000).to_bytes(16, "big"),
        )
        for n in range(start, start + count)
    ]


@pytest.mark.timeout(240)
def test_should_count_every_hit_once_when_the_worker_is_killed_mid_flush(tmp_path: Path) -> None:
    server = RedisServer(tmp_path / "redis").start()
    database = f"sqlite:///{tmp_path / 'pt.sqlite3'}"
    env = {
        "PAGE_TRACKER_ENV": "production",
        "SECRET_KEY": "e2e-" + "k" * 32,
        "DATABASE_URL": database,
        "REDIS_URL": server.url,
    }
    cli = Server(tmp_path, env)
    client = redis.Redis.from_url(server.url)
    worker: subprocess.Popen[bytes] | None = None
    try:
        assert cli.run_cli("db", "upgrade").returncode == 0
        site = cli.run_cli("sites", "create", "example.com").stdout.split()[-1]
        # Given a backlog of hits in Redis
        sink = RedisSink(client, "pt:")
        for start in range(0, HITS, 100):
            sink.submit(views(site, start, 100))
        keys = RedisKeys("pt:")
        # When a real worker starts flushing it and is killed -9 mid-way
        with (tmp_path / "worker.out").open("wb") as out:
            worker = subprocess.Popen(
                [*page_tracker_command(), "worker", "--concurrency", "1"],
                cwd=tmp_path,
                env={**os.environ, "LOG_DIR": str(tmp_path / "log"), **env},
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        broker = Celery(broker=server.url)
        broker.send_task("page_tracker.tracking.flush")
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            info = client.xinfo_groups(keys.stream)
            if info and int(info[0]["pending"]) > 0:
                break
            time.sleep(0.005)
        else:
            pytest.fail(
                "the worker never started flushing: "
                + (tmp_path / "worker.out").read_text()[-2000:]
            )
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
        broker.close()
        assert client.xlen(keys.stream) > 0  # it died before finishing
        # Then a flusher taking over the dead worker's entries counts each hit once
        engine = make_engine(database)
        try:
            Flusher(client, "pt:", sessionmaker(engine), claim_idle_ms=0).flush(max_seconds=120)
        finally:
            engine.dispose()
        check = create_engine(database)
        with check.connect() as connection:
            total = connection.execute(
                text("SELECT pageviews FROM stat_totals WHERE site_id = :s AND path_id = 0"),
                {"s": site},
            ).scalar()
        check.dispose()
        assert total == HITS
        assert client.xlen(keys.stream) == 0
        assert client.hgetall(keys.pending) == {}
    finally:
        if worker is not None and worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)
        client.close()
        server.kill()
