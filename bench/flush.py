"""Flush benchmark: how fast Redis mode's flush writes hits into MariaDB and PostgreSQL,
and whether the cost per hit stays flat as stored data grows.

Run: ``make bench-flush`` (or ``.venv/bin/python -m bench.flush --help``). For each
database it creates a throwaway database on the local server, migrates it, optionally
preloads rollup rows standing for ``--preload`` already counted hits (generated in bulk
with SQL: hourly and daily rows, daily and all-time visitor rows for 20 000 pages over
two years), then writes ``--hits`` page views into a private redis-server through
``RedisSink`` (batches of 64, the group commit's typical size under load) and times
``Flusher.flush`` until the stream is drained. The database is dropped afterwards.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import sessionmaker

from bench.harness import start_redis
from page_tracker import migrate
from page_tracker.buffer.flush import Flusher
from page_tracker.buffer.redis_sink import RedisSink
from page_tracker.db import make_engine
from page_tracker.enrich import Enrichment
from page_tracker.sites.services import create_site
from page_tracker.stats.pageview import PageView

SERVERS = {
    "mariadb": "mysql+pymysql://root@127.0.0.1:3306",
    "postgresql": "postgresql+psycopg://postgres@127.0.0.1:5432",
}
PAGES = 20_000


def provision(kind: str, name: str) -> str:
    admin = create_engine(SERVERS[kind], isolation_level="AUTOCOMMIT")
    quoted = f"`{name}`" if kind == "mariadb" else f'"{name}"'
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {quoted}"))
        extra = " CHARACTER SET utf8mb4 COLLATE utf8mb4_bin" if kind == "mariadb" else ""
        connection.execute(text(f"CREATE DATABASE {quoted}{extra}"))
    admin.dispose()
    return make_url(SERVERS[kind]).set(database=name).render_as_string(hide_password=False)


def drop(kind: str, name: str) -> None:
    admin = create_engine(SERVERS[kind], isolation_level="AUTOCOMMIT")
    quoted = f"`{name}`" if kind == "mariadb" else f'"{name}"'
    with admin.connect() as connection:
        if kind == "postgresql":
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :n AND pid <> pg_backend_pid()"
                ),
                {"n": name},
            )
        connection.execute(text(f"DROP DATABASE IF EXISTS {quoted}"))
    admin.dispose()


def preload(engine: Engine, kind: str, site: str, hits: int) -> float:
    """Rollup rows standing for ``hits`` counted hits; returns the seconds it took."""
    if hits <= 0:
        return 0.0
    started = time.monotonic()
    rows = hits // 10  # one hourly row per 10 hits, one visitor row per 5
    series = (
        "generate_series(1, {n}) AS g(i)"
        if kind == "postgresql"
        else "(SELECT seq AS i FROM seq_1_to_{n}) AS g"
    )
    hour = (
        "TIMESTAMP '2024-01-01' + (i % 17520) * INTERVAL '1 hour'"
        if kind == "postgresql"
        else "TIMESTAMP '2024-01-01 00:00:00' + INTERVAL (i % 17520) HOUR"
    )
    day = (
        "DATE '2024-01-01' + (i % 730)"
        if kind == "postgresql"
        else "DATE '2024-01-01' + INTERVAL (i % 730) DAY"
    )
    visitor = (
        "decode(lpad(to_hex(i), 32, '0'), 'hex')"
        if kind == "postgresql"
        else "UNHEX(LPAD(HEX(i), 32, '0'))"
    )
    statements = [
        f"INSERT INTO stat_paths (site_id, path) SELECT '{site}', CONCAT('/old/', i) "
        f"FROM {series.format(n=PAGES)}",
        # distinct (path, hour) keys: path i % PAGES, hour i // PAGES
        f"INSERT INTO stat_hourly (site_id, path_id, hour, pageviews, visitors) "
        f"SELECT '{site}', 1000000 + i % {PAGES}, "
        + hour.replace(
            "(i % 17520)", f"(i / {PAGES})" if kind == "postgresql" else f"(i DIV {PAGES})"
        )
        + f", 10, 5 FROM {series.format(n=rows)}",
        f"INSERT INTO stat_daily (site_id, day, path_id, pageviews, visitors) "
        f"SELECT '{site}', {day}, 1000000 + i, 240, 120 FROM {series.format(n=rows // 24)}",
        f"INSERT INTO stat_daily_visitors (site_id, day, path_id, visitor) "
        f"SELECT '{site}', {day}, 1000000 + i % {PAGES}, {visitor} "
        f"FROM {series.format(n=hits // 5)}",
        f"INSERT INTO stat_lifetime_visitors (site_id, path_id, visitor) "
        f"SELECT '{site}', 1000000 + i % {PAGES}, {visitor} FROM {series.format(n=hits // 5)}",
    ]
    with engine.begin() as connection:
        for statement in statements:  # generated from numbers and our own site id only
            connection.execute(text(statement))
    if kind == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE"))
    return time.monotonic() - started


def views(
    site: str,
    count: int,
    start: int = 0,
    *,
    pages: int = 500,
    visitors: int = 5000,
    path: str = "/posts/{page}",
    hostname: str = "bench.example",
) -> list[PageView]:
    """Views with a full enrichment; ``path`` is formatted with the page number."""
    now = datetime.now(UTC)
    made = []
    for n in range(start, start + count):
        token = (n % visitors).to_bytes(16, "big")
        made.append(
            PageView(
                site_id=site,
                path=path.format(page=n % pages),
                hostname=hostname,
                timestamp=now - timedelta(seconds=n % 3600),
                visitor=token,
                lifetime_visitor=token,
                enrichment=Enrichment(
                    browser=("Chrome", "Firefox", "Safari")[n % 3],
                    os=("Windows", "macOS")[n % 2],
                    device="desktop",
                    referrer_host="www.google.com",
                    referrer_source="Google",
                    country=("DE", "FR", "US")[n % 3],
                    screen_class="desktop",
                ),
            )
        )
    return made


def run(kind: str, preload_hits: int, hits: int, redis_url: str) -> dict[str, float]:
    name = f"pt_bench_flush_{kind}_{preload_hits}"
    url = provision(kind, name)
    engine = make_engine(url)
    client = redis.Redis.from_url(redis_url)
    prefix = f"bench:{kind}:{preload_hits}:"
    try:
        migrate.upgrade(engine)
        sessions = sessionmaker(engine, expire_on_commit=False)
        with sessions() as session:
            site = create_site(session, "bench.example").id
            session.commit()
        loaded = preload(engine, kind, site, preload_hits)
        sink = RedisSink(client, prefix)
        started = time.monotonic()
        for start in range(0, hits, 64):
            sink.submit(views(site, min(64, hits - start), start))
        written = time.monotonic() - started
        flusher = Flusher(client, prefix, sessions)
        started = time.monotonic()
        result = flusher.flush(max_seconds=3600)
        flushed = time.monotonic() - started
        assert result.views == hits, result  # noqa: S101 - a benchmark that lost hits is void
        return {
            "preload s": round(loaded, 1),
            "redis write hits/s": round(hits / written),
            "flush hits/s": round(hits / flushed),
            "flush s": round(flushed, 1),
        }
    finally:
        keys = list(client.scan_iter(f"{prefix}*"))
        if keys:
            client.delete(*keys)
        client.close()
        engine.dispose()
        drop(kind, name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hits", type=int, default=50_000)
    parser.add_argument("--databases", default="mariadb,postgresql")
    parser.add_argument("--preload", default="0", help="comma-separated, e.g. 0,1000000")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="pt-bench-flush-") as tmp:
        server, redis_url = start_redis(Path(tmp) / "redis")
        try:
            for kind in args.databases.split(","):
                for amount in (int(x) for x in args.preload.split(",")):
                    row = run(kind, amount, args.hits, redis_url)
                    print(f"  {kind} preload={amount}: {row}", flush=True)
                    rows.append((kind, amount, row))
        finally:
            server.stop()
    print(f"\n{args.hits} hits per run (batches of 64 written to Redis, then flushed)\n")
    print(
        "| database | rolled-up hits before | flush hits/s | flush s | Redis write hits/s |"
        " preload s |"
    )
    print("|---|---|---|---|---|---|")
    for kind, amount, row in rows:
        print(
            f"| {kind} | {amount:,} | {row['flush hits/s']} | {row['flush s']} | "
            f"{row['redis write hits/s']} | {row['preload s']} |"
        )


if __name__ == "__main__":
    main()
