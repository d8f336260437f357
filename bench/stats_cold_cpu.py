"""CPU of one cold stats read (``report.summary`` + the top 10 pages, a new connection
each) on a database ``bench/stats.py --keep`` filled: wall time, this process's CPU
(``time.process_time``) and the server's (the PostgreSQL backend's or MariaDB thread's
``/proc`` schedstat), medians of ``--repeat`` reads after one warm-up. Far steadier than
wall time on a loaded machine; for A/Bs run each checkout's interpreter on this file in
turn, in its directory::

    .venv/bin/python -m bench.stats_cold_cpu --url URL --tz Europe/Berlin --repeat 9
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import date

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from bench.stats_phases import _cpu_ms, _server_thread
from page_tracker.db import make_engine
from page_tracker.stats import report
from page_tracker.stats.breakdowns import breakdown
from page_tracker.stats.filters import Filter
from page_tracker.stats.ranges import Interval, make_range


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--first", default="2025-01-01")
    parser.add_argument("--last", default="2025-12-31")
    parser.add_argument("--tz", default="Europe/Berlin")
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    engine = make_engine(args.url)
    with engine.connect() as connection:
        site = str(connection.execute(text("SELECT id FROM sites")).scalar_one())
    first, last = date.fromisoformat(args.first), date.fromisoformat(args.last)
    wall: list[float] = []
    client: list[float] = []
    server: list[float] = []
    for round_ in range(args.repeat + 1):  # the first: imports, plans
        engine.dispose()
        started, cpu = time.perf_counter(), time.process_time()
        with Session(engine) as session:
            session.execute(select(1))
            thread = _server_thread(session)
            before = _cpu_ms(thread)
            rng = make_range(first, last, args.tz, Interval.DAY)
            report.summary(session, site, rng, Interval.DAY, Filter())
            breakdown(session, site, rng, "pages", limit=10)
            spent = _cpu_ms(thread) - before
        if round_:
            wall.append((time.perf_counter() - started) * 1e3)
            client.append((time.process_time() - cpu) * 1e3)
            server.append(spent)
    median = statistics.median
    print(
        f"wall {median(wall):6.1f} ms  client CPU {median(client):6.1f} ms  "
        f"server CPU {median(server):6.1f} ms"
    )


if __name__ == "__main__":
    main()
