"""Where a cold stats read's time goes: each phase of ``report.summary`` + the top pages,
and each SQL statement in it, on a database ``bench/stats.py --keep`` filled.

Run with a checkout's interpreter in its directory (``--before``-style A/B: run the other
checkout's interpreter on this file)::

    .venv/bin/python -m bench.stats_phases --url postgresql+psycopg://postgres@127.0.0.1/\
pt_bench_stats_keep_flat_TAG --first 2025-01-16 --last 2026-01-15 --tz UTC

Each round opens a new connection (its connect is timed alone), then times the summary,
the threshold top pages (``top_pages``, ``None`` when it gave up), the plain query
(``ranked_pages`` with the threshold top pages replaced by ``None``), the page count and
the whole breakdown, in wall time and in the server's CPU time (its process or thread's
``/proc/ID/schedstat``: far less noisy on a loaded machine). ``--statements`` prints
every statement of the last round with its time (the driver's execute and fetch).
Medians of ``--repeat``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import event, select, text
from sqlalchemy.orm import Session

from page_tracker.db import make_engine
from page_tracker.stats import pages, report
from page_tracker.stats.breakdowns import breakdown
from page_tracker.stats.cover import cover
from page_tracker.stats.filters import Filter
from page_tracker.stats.page_count import count_pages
from page_tracker.stats.pages import ranked_pages
from page_tracker.stats.ranges import Interval, make_range
from page_tracker.stats.top_pages import top_pages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--first", default="2025-01-16")
    parser.add_argument("--last", default="2026-01-15")
    parser.add_argument("--tz", default="UTC")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--statements", action="store_true")
    args = parser.parse_args()
    engine = make_engine(args.url)
    site = _site(engine)
    rng = make_range(
        date.fromisoformat(args.first), date.fromisoformat(args.last), args.tz, Interval.DAY
    )
    low, high = rng.utc_bounds()
    log: list[tuple[float, str]] = []
    _watch(engine, log)
    phases: dict[str, Callable[[Session], Any]] = {
        "summary": lambda s: report.summary(s, site, rng, Interval.DAY, Filter()),
        "top_pages": lambda s: top_pages(s, site, cover(low, high), limit=10, offset=0),
        "plain": lambda s: _plain(s, site, low, high),
        "count": lambda s: count_pages(s, site, cover(low, high)),
        "breakdown": lambda s: breakdown(s, site, rng, "pages", limit=10),
    }
    times: dict[str, list[float]] = {"connect": []}
    server: dict[str, list[float]] = {}
    for round_ in range(args.repeat + 1):  # the first: imports, plans
        engine.dispose()
        started = time.perf_counter()
        with Session(engine) as session:
            session.execute(select(1))
            connect = (time.perf_counter() - started) * 1e3
            thread = _server_thread(session)
            for name, phase in phases.items():
                log.clear()
                cpu = _cpu_ms(thread)
                started = time.perf_counter()
                found = phase(session)
                took = (time.perf_counter() - started) * 1e3
                if round_:
                    times.setdefault(name, []).append(took)
                    server.setdefault(name, []).append(_cpu_ms(thread) - cpu)
                if args.statements and round_ == args.repeat:
                    print(f"-- {name}: {took:.1f} ms, {_short(found)}")
                    for ms, sql in log:
                        print(f"   {ms:7.1f} ms  {' '.join(sql.split())[:150]}")
        if round_:
            times["connect"].append(connect)
    for name, samples in times.items():
        print(f"{name:10} median {statistics.median(samples):7.1f} ms  {_raw(samples)}")
    for name, samples in server.items():
        print(f"{name:10} server CPU {statistics.median(samples):7.1f} ms  {_raw(samples)}")


def _server_thread(session: Session) -> int:
    """The id of the server process (PostgreSQL) or thread (MariaDB) of the connection."""
    if session.get_bind().dialect.name == "postgresql":
        return int(session.scalar(text("SELECT pg_backend_pid()")) or 0)
    query = "SELECT TID FROM information_schema.PROCESSLIST WHERE ID = CONNECTION_ID()"
    return int(session.scalar(text(query)) or 0)


def _cpu_ms(thread: int) -> float:
    """CPU time the server's thread has used (``/proc``; the server runs on this host)."""
    with open(f"/proc/{thread}/schedstat", encoding="ascii") as found:
        return int(found.read().split()[0]) / 1e6


def _plain(session: Session, site: str, low: Any, high: Any) -> Any:
    """``ranked_pages`` without the threshold top pages: the plain query alone."""
    kept = pages.top_pages
    pages.top_pages = lambda *_args, **_kwargs: None
    try:
        return ranked_pages(session, site, low, high, limit=10, offset=0)
    finally:
        pages.top_pages = kept


def _short(found: Any) -> str:
    if found is None:
        return "None"
    if isinstance(found, tuple):
        return f"total {found[0]}, first {found[1][:1]}"
    return type(found).__name__


def _raw(samples: list[float]) -> str:
    return " ".join(f"{x:.1f}" for x in samples)


def _site(engine: Any) -> str:
    with engine.connect() as connection:
        return str(connection.execute(text("SELECT id FROM sites")).scalar_one())


def _watch(engine: Any, log: list[tuple[float, str]]) -> None:
    @event.listens_for(engine, "before_cursor_execute")
    def before(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        conn.info["started"] = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def after(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        log.append(((time.perf_counter() - conn.info["started"]) * 1e3, statement))


if __name__ == "__main__":
    main()
