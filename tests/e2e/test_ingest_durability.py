"""Acknowledged means durable: kill -9 the web server right after its answers, and every
hit it accepted is counted - embedded mode (SQLite) and Redis mode (own Redis with an
append-only file, then a flush into the database)."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text

from tests.e2e.server import Server
from tests.services import RedisServer

READER = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"


def send_hits(url: str, site: str, count: int) -> list[str]:
    """``count`` hits from 8 parallel clients; the reason of every answer (or "error")."""

    def one(number: int) -> str:
        try:
            response = requests.post(
                f"{url}/api/v1/hits",
                data=json.dumps({"site": site, "url": f"https://example.com/d{number % 3}"}),
                headers={"Content-Type": "text/plain", "User-Agent": READER},
                timeout=10,
            )
        except requests.RequestException:
            return "error"
        return response.headers.get("X-Page-Tracker-Reason", "none")

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, range(count)))


def counted(database_url: str, site: str) -> int:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            value = connection.execute(
                text("SELECT pageviews FROM stat_totals WHERE site_id = :s AND path_id = 0"),
                {"s": site},
            ).scalar()
    finally:
        engine.dispose()
    return int(value or 0)


@pytest.mark.timeout(180)
@pytest.mark.parametrize("mode", ["embedded", "redis"])
def test_should_count_every_acknowledged_hit_after_kill_9_of_the_web_server(
    mode: str, tmp_path: Path
) -> None:
    database = f"sqlite:///{tmp_path / 'pt.sqlite3'}"
    env = {
        "PAGE_TRACKER_ENV": "production",
        "SECRET_KEY": "e2e-" + "k" * 32,
        "DATABASE_URL": database,
    }
    redis_server = RedisServer(tmp_path / "redis").start() if mode == "redis" else None
    if redis_server is not None:
        env["REDIS_URL"] = redis_server.url
    server = Server(tmp_path, env, extra_args=("--threads", "16"))
    try:
        assert server.run_cli("db", "upgrade").returncode == 0
        created = server.run_cli("sites", "create", "example.com")
        assert created.returncode == 0, created.stderr
        site = created.stdout.split()[-1]
        server.start()
        # Given hits acknowledged by the server (202, "accepted")
        reasons = send_hits(server.url, site, 300)
        accepted = reasons.count("accepted")
        assert accepted == 300, reasons
        # When it is killed -9 at once, with no chance to write anything more
        server.kill()
        # Then every acknowledged hit is in the database (after the flush in Redis mode)
        if redis_server is not None:
            redis_server.kill()  # Redis dies too: its append-only file keeps the hits
            redis_server.start()
            flushed = server.run_cli("flush")
            assert flushed.returncode == 0, flushed.stderr
        assert counted(database, site) == accepted
    finally:
        server.stop()
        if redis_server is not None:
            redis_server.kill()
