"""CPU seconds per accepted hit: the app's own cost, without a server or wrk in between.

Run: ``make bench-ingest-cpu`` (``python -m bench.ingest_cpu --hits 6000``). Builds the
WSGI app of this checkout (``create_app()``, as ``page_tracker.wsgi``) on a fresh SQLite
file in a temporary directory, sends ``--hits`` ``POST /api/v1/hits`` from ``--threads``
threads (50 pages, one desktop browser, 1 000 private reader addresses or with
``--unique-addresses`` a public one per hit), prints the process's CPU seconds (all
threads: the requests and the group-commit writer), its context switches per hit
(voluntary + involuntary, ``getrusage``) and the wall seconds of that phase only, then
checks that every accepted hit was stored.

``--mode embedded`` (the default) writes through to SQLite and checks the database;
``--mode redis`` starts a private ``redis-server`` on a free port (as ``make bench``
does), runs the app in Redis mode (``REDIS_URL``: the ``RedisSink`` behind group
commit, salts and live visitors in Redis; no flush runs) and checks that the stream's
batches hold exactly the accepted hits and that ``pending`` counts them; it prints the
Redis server's CPU seconds of the phase too (``/proc``), which the app's batch format
and command shape move.

Why CPU time: on a shared machine a wrk rate moves with everyone else's load, while the
CPU a process spends per hit moves much less. For an A/B, run two checkouts' copies in
turn (A B A B ...) and quote the median of the pair-by-pair ratios.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import re
import resource
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

import redis

from bench.harness import Process, start_redis
from page_tracker import create_app
from page_tracker.buffer.batch_format import decode_views
from page_tracker.buffer.sinks import SINK

THREADS = 16
USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0 Safari/537.36"
)


def _prepare(folder: Path, redis_url: str | None) -> str:
    """Environment of an app on a new SQLite file (in Redis mode with ``redis_url``),
    migrated, with one site."""
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
        [tool, "sites", "create", "example.com"], check=True, capture_output=True, text=True
    )
    return created.stdout.split()[-1]  # the new site's id ends the output


def _address(number: int, unique: bool) -> str:
    """Hit ``number``'s reader: one of 1 000 private addresses, or with ``unique`` a public
    address of its own (11.x.y.1: every hit a new reader, no per-address cache helps)."""
    if unique:
        return f"{11 + number // 65_536 % 80}.{number // 256 % 256}.{number % 256}.1"
    return f"10.0.{number % 200}.{number % 250}"


def _environ(site: str, number: int, unique: bool = False) -> dict[str, Any]:
    body = json.dumps(
        {"site": site, "url": f"https://example.com/p{number % 50}", "referrer": ""}
    ).encode()
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/api/v1/hits",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.version": (1, 0),
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": "application/json",
        "REMOTE_ADDR": _address(number, unique),
        "HTTP_USER_AGENT": USER_AGENT,
    }


def _caller(
    app: Callable[..., Iterable[bytes]], site: str, unique: bool = False
) -> Callable[[int], str]:
    """``call(number)`` sends hit ``number``; returns its status and reason."""

    def call(number: int) -> str:
        return wsgi_outcome(app, _environ(site, number, unique))

    return call


def wsgi_outcome(app: Callable[..., Iterable[bytes]], environ: dict[str, Any]) -> str:
    """Run one request through the WSGI ``app``; its status code and page-tracker reason
    (``-`` when it gives none), e.g. ``"202 counted"``."""
    answers: list[tuple[str, list[tuple[str, str]]]] = []
    answer = app(environ, lambda status, headers, *_: answers.append((status, headers)))
    b"".join(answer)
    close = getattr(answer, "close", None)
    if close is not None:
        close()
    status, headers = answers[0]
    reason = dict(headers).get("X-Page-Tracker-Reason", "-")
    return f"{status.split()[0]} {reason}"


def _redis_cpu(redis_server: Process | None) -> float:
    """CPU seconds (user + system) the private redis-server has spent so far."""
    if redis_server is None:
        return 0.0
    stat = Path(f"/proc/{redis_server.popen.pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()  # after the command name
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _stored_in_database(folder: Path) -> str:
    with sqlite3.connect(folder / "pt.db") as connection:
        stored = connection.execute(
            "SELECT COALESCE(SUM(pageviews), 0) FROM stat_totals WHERE path_id = 0"
        ).fetchone()[0]
    return f"stored {stored}"


def _stored_in_redis(url: str, site: str, accepted: int) -> str:
    """The views of the stream's batches and the site's ``pending`` count; raises
    ``SystemExit`` unless both equal ``accepted``."""
    client = redis.Redis.from_url(url)
    prefix = os.environ.get("REDIS_KEY_PREFIX", "pt:")
    entries = client.xrange(f"{prefix}hits")
    views = sum(len(decode_views(fields[b"v"])) for _, fields in entries)
    pending = int(client.hget(f"{prefix}pending", f"s:{site}") or 0)
    client.close()
    found = f"stream views {views} in {len(entries)} batches, pending {pending}"
    if not views == pending == accepted:
        raise SystemExit(f"LOST OR EXTRA HITS: {found}, accepted {accepted}")
    return found


def _profile_threads() -> list[cProfile.Profile]:
    """Profile every thread started from now on (the request threads and the group-commit
    writer); each profile is complete once its thread has ended."""
    profiles: list[cProfile.Profile] = []
    run = threading.Thread.run

    def profiled(thread: threading.Thread) -> None:
        profile = cProfile.Profile(time.thread_time)  # CPU time, not GIL waits
        profiles.append(profile)
        profile.enable()
        try:
            run(thread)
        finally:
            profile.disable()

    threading.Thread.run = profiled  # type: ignore[method-assign]
    return profiles


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hits", type=int, default=6000)
    parser.add_argument("--threads", type=int, default=THREADS)
    parser.add_argument("--mode", choices=("embedded", "redis"), default="embedded")
    parser.add_argument(
        "--unique-addresses",
        action="store_true",
        help="every hit from a public address of its own (default: 1 000 private ones)",
    )
    parser.add_argument(
        "--profile", type=Path, help="write cProfile stats of all threads here (inflates CPU)"
    )
    arguments = parser.parse_args()
    profiles = _profile_threads() if arguments.profile else []
    hits, threads_wanted = arguments.hits, arguments.threads
    folder = Path(tempfile.mkdtemp(prefix="pt-bench-cpu-"))
    redis_server: Process | None = None
    redis_url: str | None = None
    if arguments.mode == "redis":
        redis_server, redis_url = start_redis(folder / "redis")
    try:
        site = _prepare(folder, redis_url)
        app = create_app()  # as page_tracker.wsgi builds it, from the environment
        call = _caller(app, site, arguments.unique_addresses)
        statuses: Counter[str] = Counter()
        statuses[call(0)] += 1  # warm: the first request opens the database, starts the writer
        lock = threading.Lock()

        def send(first: int) -> None:
            for number in range(first, hits, threads_wanted):
                status = call(number)
                with lock:
                    statuses[status] += 1

        threads = [threading.Thread(target=send, args=(n,)) for n in range(threads_wanted)]
        cpu, wall, redis_cpu = time.process_time(), time.perf_counter(), _redis_cpu(redis_server)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        after = resource.getrusage(resource.RUSAGE_SELF)
        switches = (after.ru_nvcsw - usage.ru_nvcsw, after.ru_nivcsw - usage.ru_nivcsw)
        redis_cpu = _redis_cpu(redis_server) - redis_cpu
        SINK.get(app).close()  # the writer thread ends (and so does its profile)
        accepted = sum(
            n for answer, n in statuses.items() if re.fullmatch(r"20\d accepted", answer)
        )
        stored = (
            _stored_in_database(folder)
            if redis_url is None
            else _stored_in_redis(redis_url, site, accepted)
        )
        print(
            f"mode {arguments.mode} cpu_s {cpu:.3f} wall_s {wall:.3f} "
            f"cpu_us_per_hit {cpu / hits * 1e6:.0f} redis_cpu_s {redis_cpu:.3f} "
            f"switches_per_hit {switches[0] / hits:.2f} + {switches[1] / hits:.2f} "
            f"answers {dict(statuses)} {stored} (the warm-up hit included)"
        )
        if profiles:
            stats = pstats.Stats(*profiles)
            stats.dump_stats(arguments.profile)
            stats.sort_stats("tottime").print_stats(45)
    finally:
        if redis_server is not None:
            redis_server.stop()


if __name__ == "__main__":
    main()
