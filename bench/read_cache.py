"""Read-cache benchmark: public counter reads (``GET /api/v1/counters/{site}``) per
second, without any cache, as before the read cache, and through it.

Run: ``make bench-read-cache`` (or ``.venv/bin/python -m bench.read_cache --help``). For
each database and mode it builds the app in-process (no HTTP server: the rates are the
app's own cost per request, the WSGI server's is the same for every variant), migrates a
throwaway database (a temporary SQLite file, or a database on the local PostgreSQL /
MariaDB server), records ``--hits`` hits on 50 pages (flushed, in Redis mode, to the
local Redis under a prefix of its own, deleted afterwards), then reads the counters of
``--pages`` of those pages in turn, ``--requests`` times from ``--threads`` threads, in
each variant:

- ``no cache``: every read queries the database (``DatabaseCounterReader``);
- ``before``: the mode's counter reader as it was before the read cache (embedded: the
  totals kept in-process by the writer; Redis mode: one Lua call per read);
- ``cache``: through the cache's ``counters`` node (``CACHE_COUNTERS_TTL`` 2 s).

Each variant is measured at two levels: ``http``, requests through the app (Flask's
own cost per request is in it and bounds the ratio), and ``reader``, the read the
endpoints make (``read_counters``), ``--reader-reads`` times, in one thread. Variants alternate
within each of ``--repeat`` rounds; medians are printed as a Markdown table with the
ratios. Not a test: numbers from a shared 2-core machine are noisy.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import redis
from flask import Flask

from bench.flush import drop, provision
from page_tracker import create_app, migrate
from page_tracker.app import close_app
from page_tracker.buffer.tasks import get_flusher
from page_tracker.cache import CACHE
from page_tracker.db import DATABASE, get_session
from page_tracker.settings import load_settings
from page_tracker.sites.services import create_site
from page_tracker.stats.cached import COUNTERS_NODE, read_counters
from page_tracker.stats.counters import COUNTERS, CounterReader, DatabaseCounterReader

REDIS_URL = "redis://127.0.0.1:6379/0"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"


def _app(database_url: str, mode: str, prefix: str, log_dir: Path) -> Flask:
    env = {"DATABASE_URL": database_url, "LOG_DIR": str(log_dir), "PAGE_TRACKER_ENV": "test"}
    if mode == "redis":
        env |= {"REDIS_URL": REDIS_URL, "REDIS_KEY_PREFIX": prefix}
    app = create_app(settings=load_settings(**env), configure_logging=False)
    migrate.upgrade(DATABASE.get(app).engine)
    return app


def _site_with_hits(app: Flask, hits: int) -> str:
    with app.app_context():
        session = get_session()
        site = create_site(session, "bench.example", public_counters=True)
        session.commit()
        site_id = site.id
    client = app.test_client()
    for number in range(hits):
        answer = client.post(
            "/api/v1/hits",
            json={"site": site_id, "url": f"https://bench.example/p{number % 50}"},
            headers={"User-Agent": BROWSER},
            environ_base={"REMOTE_ADDR": f"198.51.100.{number % 200}"},
        )
        if answer.status_code != 202:
            raise SystemExit(f"hit refused: {answer.status_code} {answer.text}")
    with app.app_context():
        flusher = get_flusher(app)
        if flusher is not None:
            flusher.flush()
    return site_id


def _rate(app: Flask, site: str, requests: int, threads: int, pages: int) -> float:
    """Counter reads per second over ``requests`` reads of ``pages`` pages."""
    clients = [app.test_client() for _ in range(threads)]

    def reads(index: int) -> None:
        client = clients[index]
        for number in range(index, requests, threads):
            answer = client.get(f"/api/v1/counters/{site}?path=/p{number % pages}")
            if answer.status_code != 200:
                raise SystemExit(f"read failed: {answer.status_code}")

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(reads, range(threads)))
    return requests / (time.perf_counter() - started)


def _reader_rate(app: Flask, site: str, reads: int, pages: int) -> float:
    """Counter reads per second as the endpoints make them (no HTTP, one thread)."""
    with app.test_request_context():
        started = time.perf_counter()
        for number in range(reads):
            read_counters(site, f"/p{number % pages}")
        return reads / (time.perf_counter() - started)


def _variants(app: Flask) -> dict[str, Callable[[], None]]:
    before: CounterReader = COUNTERS.get(app)
    no_cache = DatabaseCounterReader(DATABASE.get(app).sessions.session_factory)
    manager = CACHE.get(app)

    def set_up(reader: CounterReader, ttl: float) -> Callable[[], None]:
        def apply() -> None:
            COUNTERS.put(app, reader)
            manager.register_node(COUNTERS_NODE, ttl)

        return apply

    return {
        "no cache": set_up(no_cache, 0),
        "before": set_up(before, 0),
        "cache": set_up(before, 2.0),
    }


def run(kind: str, mode: str, args: argparse.Namespace) -> dict[str, float]:
    name = f"bench_cache_{uuid.uuid4().hex[:8]}"
    prefix = f"bench-cache-{uuid.uuid4().hex[:8]}:"
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db" if kind == "sqlite" else provision(kind, name)
        app = _app(url, mode, prefix, Path(tmp))
        try:
            site = _site_with_hits(app, args.hits)
            variants = _variants(app)
            rates: dict[str, list[float]] = {}
            for _round in range(args.repeat):
                for variant, apply in variants.items():
                    apply()
                    _rate(app, site, min(200, args.requests), args.threads, args.pages)  # warm-up
                    found = _rate(app, site, args.requests, args.threads, args.pages)
                    rates.setdefault(f"http {variant}", []).append(found)
                    found = _reader_rate(app, site, args.reader_reads, args.pages)
                    rates.setdefault(f"reader {variant}", []).append(found)
            return {variant: statistics.median(found) for variant, found in rates.items()}
        finally:
            close_app(app)
            if kind != "sqlite":
                drop(kind, name)
            if mode == "redis":
                client = redis.Redis.from_url(REDIS_URL)
                keys = list(client.scan_iter(f"{prefix}*"))
                if keys:
                    client.delete(*keys)
                client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--databases", default="sqlite,postgresql,mariadb")
    parser.add_argument("--modes", default="embedded,redis")
    parser.add_argument("--hits", type=int, default=500)
    parser.add_argument("--requests", type=int, default=3000, help="reads per measurement")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--reader-reads", type=int, default=3000, help="reads per measurement")
    parser.add_argument("--pages", type=int, default=10, help="pages read in turn (of 50)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(
        "| database | mode | level | no cache | before | cache | cache / before "
        "| cache / no cache |"
    )
    print("|---|---|---|---:|---:|---:|---:|---:|")
    for kind in args.databases.split(","):
        for mode in args.modes.split(","):
            rates = run(kind, mode, args)
            for level in ("http", "reader"):
                none, before, cache = (
                    rates[f"{level} {variant}"] for variant in ("no cache", "before", "cache")
                )
                print(
                    f"| {kind} | {mode} | {level} | {none:,.0f}/s | {before:,.0f}/s "
                    f"| {cache:,.0f}/s | {cache / before:.2f}x | {cache / none:.2f}x |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
