"""CPU seconds per page view of the one rollup write path alone (``stats.rollup.apply``).

Run: ``python -m bench.rollup_cpu --views 20000`` (any checkout's interpreter on this file,
for an A/B). Creates the tables on a fresh SQLite file in a temporary directory, then
counts ``--views`` page views in batches of ``--batch`` (one transaction each, as a group
commit or a Redis flush writes them): 50 pages, 400 visitors a day over 3 days, each view
with a browser, OS, device, country, referring host and (one in four) a campaign, so
that every dimension kind the rollups cross with pages is there. Prints the process's CPU
seconds of the writes and the rows the page x dimension rollup holds (when it exists).

``--url`` writes to a database of a server instead (its tables dropped and created
first: give it a throwaway database); on a local PostgreSQL it also prints the CPU
seconds of the server process that served the writes (``/proc``; the pool keeps the
one connection: one writer, one batch after the other).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, inspect, text
from sqlalchemy.orm import Session

from page_tracker import models  # noqa: F401  (every table in Base.metadata)
from page_tracker.db import Base, make_engine
from page_tracker.enrich import Enrichment
from page_tracker.stats import rollup
from page_tracker.stats.ids import IdCache
from page_tracker.stats.pageview import PageView

START = datetime(2026, 3, 1, tzinfo=UTC)
BROWSERS = ("Firefox", "Chrome", "Safari", "Edge")
COUNTRIES = ("DE", "US", "FR", "GB", "JP", "BR")
REFERRERS = (None, "news.ycombinator.com", "www.google.com", "lobste.rs")


def _view(number: int, views: int) -> PageView:
    day = number * 3 // views  # three days in time order
    visitor = number % 400
    return PageView(
        site_id="benchsite001",
        path=f"/p{number % 50}",
        hostname="example.com",
        timestamp=START + timedelta(days=day, seconds=number % 80_000),
        visitor=(visitor + 1000 * day).to_bytes(16, "big"),
        lifetime_visitor=visitor.to_bytes(16, "big"),
        enrichment=Enrichment(
            browser=BROWSERS[visitor % 4],
            os="Linux",
            device="desktop",
            country=COUNTRIES[visitor % 6],
            referrer_host=REFERRERS[number % 4],
            utm_source="newsletter" if number % 4 == 0 else None,
        ),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--views", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--url", help="a throwaway server database (default: a SQLite file)")
    args = parser.parse_args()
    url = args.url or f"sqlite:///{Path(tempfile.mkdtemp(prefix='pt-bench-rollup-')) / 'pt.db'}"
    engine = make_engine(url)
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    server = _server_process(engine)
    server_cpu = _process_cpu(server)
    views = [_view(number, args.views) for number in range(args.views)]
    cache = IdCache()
    cpu = time.process_time()
    for start in range(0, len(views), args.batch):
        with Session(engine) as session, session.begin():
            rollup.apply(session, views[start : start + args.batch], cache)
    cpu = time.process_time() - cpu
    still = server is not None and server == _server_process(engine)
    server_cpu = _process_cpu(server) - server_cpu if still else None
    crossed = "stat_daily_path_dimensions"
    rows = None
    if crossed in inspect(engine).get_table_names():
        with engine.connect() as connection:
            rows = connection.execute(text(f"SELECT COUNT(*) FROM {crossed}")).scalar()  # noqa: S608
    engine.dispose()
    print(
        f"cpu_s {cpu:.3f} cpu_us_per_view {cpu / args.views * 1e6:.0f} page_dimension_rows {rows}"
        + (f" server_cpu_s {server_cpu:.3f}" if server_cpu is not None else "")
    )


def _server_process(engine: Engine) -> int | None:
    """The process id of the PostgreSQL backend of the pool's connection (else None)."""
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as connection:
        found: int = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
        return found


def _process_cpu(pid: int | None) -> float:
    """User + system CPU seconds of a local process (0 when there is none)."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


if __name__ == "__main__":
    main()
