"""CPU per request of the blog-page GET routes: Busuanzi, ``/count.gif``, counters JSON, badge.

Run: ``make bench-read-cpu`` (``python -m bench.read_cpu --mode embedded --requests 3000``).
Builds the WSGI app of this checkout (``create_app()``, as ``page_tracker.wsgi``) on a
fresh SQLite file in a temporary directory, with one site that publishes its counters,
and sends ``--requests`` requests of each route in ``--routes`` (in that order, one
phase each) from ``--threads`` threads: 64 pages x 8 browsers x 200 addresses, shaped
like ``bench/reads.lua`` (Busuanzi without a cookie, the page in the ``Referer``). Per
route it prints the process's CPU µs per request (all threads: the requests and the
group-commit writer), the wall seconds of the phase and, in Redis mode, the private
``redis-server``'s CPU µs per request. ``bz/gif`` is Busuanzi's CPU over the pixel's.

``--mode redis`` starts a private ``redis-server`` on a free port (as ``make bench``
does) and runs the app in Redis mode (no flush runs). A warm-up of ``--warm`` requests
per route comes first (site caches, the counter cache, the writer thread), so each
phase measures the steady state the wrk rows of ``make bench`` see.

Checks at the end: every counting request was accepted, and the counters the app
answers equal what was stored (embedded: the database's ``stat_totals``; Redis mode:
the accepted hits, all pending), for the site and each page.

Why CPU time: on a shared machine a wrk rate moves with everyone else's load, while the
CPU a process spends per request moves much less. For an A/B, run two checkouts' copies
in turn (A B A B ...) and quote the median of the pair-by-pair ratios.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import pstats
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from bench.harness import Process, start_redis
from bench.ingest_cpu import _profile_threads, _redis_cpu, wsgi_outcome
from page_tracker import create_app
from page_tracker.buffer.sinks import SINK

HOST = "example.com"
PAGES = 64
AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.6 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
)
ROUTES = ("bz", "gif", "counters", "badge")
COUNTING = frozenset({"bz", "gif"})


def _prepare(folder: Path, redis_url: str | None) -> str:
    """Environment of an app on a new SQLite file (in Redis mode with ``redis_url``),
    migrated, with one site that publishes its counters."""
    os.environ.update(
        DATABASE_URL=f"sqlite:///{folder / 'pt.db'}",
        SECRET_KEY="bench-" + "s" * 32,
        LOG_DIR=str(folder),
        EMBEDDED_JOBS="false",
    )
    if redis_url is not None:
        os.environ["REDIS_URL"] = redis_url
    tool = str(Path(sys.executable).with_name("page-tracker"))
    subprocess.run([tool, "db", "upgrade"], check=True, capture_output=True)  # noqa: S603
    created = subprocess.run(  # noqa: S603
        [tool, "sites", "create", HOST, "--public-counters"],
        check=True,
        capture_output=True,
        text=True,
    )
    return created.stdout.split()[-1]  # the new site's id ends the output


def _environ(route: str, site: str, number: int) -> dict[str, Any]:
    page = number % PAGES
    path, query = {
        "bz": ("/busuanzi", "jsonpCallback=cb"),
        "gif": ("/count.gif", f"site={site}&url=https%3A%2F%2F{HOST}%2Fposts%2F{page}"),
        "counters": (f"/api/v1/counters/{site}", f"path=/posts/{page}"),
        "badge": (f"/badge/{site}.svg", f"path=/posts/{page}&label=views"),
    }[route]
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.version": (1, 0),
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "REMOTE_ADDR": f"10.1.{number % 200}.{number % 199}",
        "HTTP_USER_AGENT": AGENTS[number % len(AGENTS)],
        "HTTP_REFERER": f"https://{HOST}/posts/{page}",
    }


def _caller(app: Callable[..., Iterable[bytes]], site: str) -> Callable[[str, int], str]:
    """``call(route, number)`` sends request ``number`` of ``route``; returns its status
    and reason (``-`` for the reads)."""

    def call(route: str, number: int) -> str:
        return wsgi_outcome(app, _environ(route, site, number))

    return call


def _phase(
    call: Callable[[str, int], str], route: str, first: int, count: int, threads: int
) -> Counter[str]:
    statuses: Counter[str] = Counter()
    lock = threading.Lock()

    def send(offset: int) -> None:
        for number in range(first + offset, first + count, threads):
            status = call(route, number)
            with lock:
                statuses[status] += 1

    workers = [threading.Thread(target=send, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return statuses


def _stored_totals(folder: Path, site: str) -> dict[str, int]:
    """Page views by path (``""``: the site) in ``stat_totals``."""
    with sqlite3.connect(folder / "pt.db") as connection:
        rows = connection.execute(
            "SELECT COALESCE(p.path, ''), t.pageviews FROM stat_totals t "
            "LEFT JOIN stat_paths p ON p.id = t.path_id WHERE t.site_id = ?",
            (site,),
        ).fetchall()
    return {path: int(pageviews) for path, pageviews in rows}


def _check(
    call_json: Callable[[str], dict[str, int]], stored: dict[str, int] | None, counted: int
) -> str:
    """Raise ``SystemExit`` unless the app's counters equal what was stored (embedded) or
    counted (Redis mode: nothing flushed, the site's page views are the accepted hits)."""
    site_pv = call_json("/")["site_pv"]
    wrong = []
    if stored is None:
        if site_pv != counted:
            wrong.append(f"site_pv {site_pv} != accepted {counted}")
    else:
        if site_pv != stored.get("", 0):
            wrong.append(f"site_pv {site_pv} != stored {stored.get('', 0)}")
        for page in range(PAGES):
            path = f"/posts/{page}"
            page_pv = call_json(path)["page_pv"]
            if page_pv != stored.get(path, 0):
                wrong.append(f"{path}: page_pv {page_pv} != stored {stored.get(path, 0)}")
    if wrong:
        raise SystemExit("COUNTERS DIFFER FROM THE STORE: " + "; ".join(wrong[:5]))
    return f"counters = store (site_pv {site_pv})"


def _measure(
    call: Callable[[str, int], str],
    chosen: list[str],
    number: int,
    arguments: argparse.Namespace,
    redis_server: Process | None,
) -> tuple[dict[str, float], int]:
    """One phase per route: CPU µs per request by route, and the requests counted."""
    counted = 0
    results: dict[str, float] = {}
    for route in chosen:
        cpu, wall, redis_cpu = (
            time.process_time(),
            time.perf_counter(),
            _redis_cpu(redis_server),
        )
        statuses = _phase(call, route, number, arguments.requests, arguments.threads)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        redis_cpu = _redis_cpu(redis_server) - redis_cpu
        number += arguments.requests
        want = "200 accepted" if route in COUNTING else "200 -"
        if statuses[want] != arguments.requests:
            raise SystemExit(f"{route}: unexpected answers {dict(statuses)}")
        counted += statuses[want] if route in COUNTING else 0
        results[route] = cpu / arguments.requests * 1e6
        print(
            f"mode {arguments.mode} route {route} cpu_us_per_req {results[route]:.0f} "
            f"wall_s {wall:.3f} redis_cpu_us_per_req "
            f"{redis_cpu / arguments.requests * 1e6:.0f}",
            flush=True,
        )
    return results, counted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000, help="per route")
    parser.add_argument("--warm", type=int, default=300, help="per route, before any phase")
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--mode", choices=("embedded", "redis"), default="embedded")
    parser.add_argument("--routes", default=",".join(ROUTES), help="phases, in order")
    parser.add_argument(
        "--profile", type=Path, help="write cProfile stats of all threads here (inflates CPU)"
    )
    arguments = parser.parse_args()
    chosen = [route for route in arguments.routes.split(",") if route]
    if unknown := set(chosen) - set(ROUTES):
        parser.error(f"unknown routes {sorted(unknown)}; choose from {ROUTES}")
    # Before the app: the group-commit writer's thread starts with the first hit.
    profiles = _profile_threads() if arguments.profile else []
    folder = Path(tempfile.mkdtemp(prefix="pt-bench-read-"))
    redis_server: Process | None = None
    redis_url: str | None = None
    if arguments.mode == "redis":
        redis_server, redis_url = start_redis(folder / "redis")
    try:
        site = _prepare(folder, redis_url)
        app = create_app()  # as page_tracker.wsgi builds it, from the environment
        call = _caller(app, site)
        counted = 0
        number = 0
        for route in chosen:  # warm: site caches, counter cache, writer thread
            statuses = _phase(call, route, number, arguments.warm, arguments.threads)
            number += arguments.warm
            counted += statuses.get("200 accepted", 0) if route in COUNTING else 0
        results, measured = _measure(call, chosen, number, arguments, redis_server)
        counted += measured
        if "bz" in results and "gif" in results:
            print(f"mode {arguments.mode} bz/gif {results['bz'] / results['gif']:.2f}")

        def call_json(path: str) -> dict[str, int]:
            chunks: list[bytes] = []
            environ = _environ("counters", site, 0)
            environ["QUERY_STRING"] = f"path={path}"
            chunks.extend(app(environ, lambda *_: None))
            found: dict[str, int] = json.loads(b"".join(chunks))
            return found

        SINK.get(app).close()  # the writer thread ends (and so does its profile)
        stored = _stored_totals(folder, site) if redis_url is None else None
        # Read after the writer stopped: the cache of a counters read is 0 s in embedded
        # mode; in Redis mode the read cache may be 2 s old, so wait it out.
        if redis_url is not None:
            time.sleep(2.1)
        print(f"mode {arguments.mode} {_check(call_json, stored, counted)}")
        if profiles:
            stats = pstats.Stats(*profiles)
            stats.dump_stats(arguments.profile)
            stats.sort_stats("tottime").print_stats(45)
    finally:
        if redis_server is not None:
            redis_server.stop()


if __name__ == "__main__":
    main()
