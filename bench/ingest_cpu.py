"""CPU seconds per accepted hit: the app's own cost, without a server or wrk in between.

Run: ``make bench-ingest-cpu`` (``python -m bench.ingest_cpu --hits 6000``). Builds the
WSGI app of this checkout (``create_app()``, as ``page_tracker.wsgi``) in embedded mode
on a fresh SQLite file in a temporary directory, sends ``--hits`` ``POST /api/v1/hits``
from 16 threads (50 pages, 200 x 250 reader addresses, one desktop browser), prints
the process's CPU seconds (all threads: the requests and the group-commit writer) and
the wall seconds of that phase only, then checks that the database holds every accepted hit.

Why CPU time: on a shared machine a wrk rate moves with everyone else's load, while the
CPU a process spends per hit moves much less. For an A/B, run two checkouts' copies in
turn (A B A B ...) and quote the median of the pair-by-pair ratios.
"""

from __future__ import annotations

import argparse
import io
import json
import os
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

from page_tracker import create_app

THREADS = 16
USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0 Safari/537.36"
)


def _prepare(folder: Path) -> str:
    """Environment of an embedded app on a new SQLite file, migrated, with one site."""
    os.environ.update(
        DATABASE_URL=f"sqlite:///{folder / 'pt.db'}",
        SECRET_KEY="bench-" + "s" * 32,
        LOG_DIR=str(folder),
        EMBEDDED_JOBS="false",
    )
    tool = str(Path(sys.executable).with_name("page-tracker"))
    subprocess.run([tool, "db", "upgrade"], check=True, capture_output=True)  # noqa: S603
    created = subprocess.run(  # noqa: S603
        [tool, "sites", "create", "example.com"], check=True, capture_output=True, text=True
    )
    return created.stdout.split()[-1]  # the new site's id ends the output


def _environ(site: str, number: int) -> dict[str, Any]:
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
        "REMOTE_ADDR": f"10.0.{number % 200}.{number % 250}",
        "HTTP_USER_AGENT": USER_AGENT,
    }


def _caller(app: Callable[..., Iterable[bytes]], site: str) -> Callable[[int], str]:
    def call(number: int) -> str:
        statuses: list[str] = []
        answer = app(_environ(site, number), lambda status, *_: statuses.append(status))
        b"".join(answer)
        close = getattr(answer, "close", None)
        if close is not None:
            close()
        return statuses[0]

    return call


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hits", type=int, default=6000)
    hits = parser.parse_args().hits
    folder = Path(tempfile.mkdtemp(prefix="pt-bench-cpu-"))
    site = _prepare(folder)
    call = _caller(create_app(), site)  # as page_tracker.wsgi builds it, from the environment
    call(0)  # warm: the first request opens the database and starts the writer
    statuses: Counter[str] = Counter()
    lock = threading.Lock()

    def send(first: int) -> None:
        for number in range(first, hits, THREADS):
            status = call(number)
            with lock:
                statuses[status] += 1

    threads = [threading.Thread(target=send, args=(first,)) for first in range(THREADS)]
    cpu, wall = time.process_time(), time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    with sqlite3.connect(folder / "pt.db") as connection:
        stored = connection.execute(
            "SELECT COALESCE(SUM(pageviews), 0) FROM stat_totals WHERE path_id = 0"
        ).fetchone()[0]
    print(
        f"cpu_s {cpu:.3f} wall_s {wall:.3f} cpu_us_per_hit {cpu / hits * 1e6:.0f} "
        f"answers {dict(statuses)} stored {stored} (the warm-up hit included)"
    )


if __name__ == "__main__":
    main()
