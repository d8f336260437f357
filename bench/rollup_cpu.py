"""CPU seconds per page view of the one rollup write path alone (``stats.rollup.apply``).

Run: ``python -m bench.rollup_cpu --views 20000`` (any checkout's interpreter on this file,
for an A/B). Creates the tables on a fresh SQLite file in a temporary directory, then
counts ``--views`` page views in batches of ``--batch`` (one transaction each, as a group
commit or a Redis flush writes them): 50 pages, 400 visitors a day over 3 days, each view
with a browser, OS, device, country, referring host and (one in four) a campaign, so
that every dimension kind the rollups cross with pages is there. Prints the process's CPU
seconds of the writes and the rows the page x dimension rollup holds (when it exists).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import inspect, text
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
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="pt-bench-rollup-"))
    engine = make_engine(f"sqlite:///{folder / 'pt.db'}")
    Base.metadata.create_all(engine)
    views = [_view(number, args.views) for number in range(args.views)]
    cache = IdCache()
    cpu = time.process_time()
    for start in range(0, len(views), args.batch):
        with Session(engine) as session, session.begin():
            rollup.apply(session, views[start : start + args.batch], cache)
    cpu = time.process_time() - cpu
    crossed = "stat_daily_path_dimensions"
    rows = None
    if crossed in inspect(engine).get_table_names():
        with engine.connect() as connection:
            rows = connection.execute(text(f"SELECT COUNT(*) FROM {crossed}")).scalar()  # noqa: S608
    engine.dispose()
    print(
        f"cpu_s {cpu:.3f} cpu_us_per_view {cpu / args.views * 1e6:.0f} page_dimension_rows {rows}"
    )


if __name__ == "__main__":
    main()
