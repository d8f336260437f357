"""Import benchmark: a generated GoatCounter export (1 M rows by default) into SQLite.

Run: ``make bench-import`` (or ``.venv/bin/python -m bench.imports --help``). Writes a
realistic export v2 (2 000 pages of Zipf popularity, a year of traffic in time order,
~3 views per session, a mix of browsers, systems, countries, referrers and 1 % bots)
into a temporary directory, imports it with ``ImportRunner`` into a fresh SQLite
database (or ``--database-url``), and prints rows/s by the clock and by CPU time (which
a busy machine inflates less) and the peak memory. Not a test: it asserts only that
every non-bot row was counted.
"""

from __future__ import annotations

import argparse
import bisect
import csv
import itertools
import random
import resource
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import sessionmaker

from page_tracker import migrate
from page_tracker.db import make_engine
from page_tracker.imports.goatcounter import HEADER, GoatCounterImport
from page_tracker.imports.services import ImportRunner
from page_tracker.sites.services import create_site
from page_tracker.stats.counters import DatabaseCounterReader

BROWSERS = ["Firefox 133", "Chrome 131", "Safari 18.1", "Edge 131", "Chrome 130"]
SYSTEMS = ["Linux", "Windows 10", "macOS 15.1", "Android 14", "iOS 18.1"]
COUNTRIES = ["DE", "US-CA", "NL", "FR", "GB", "JP", "BR", ""]
REFERRERS = [("", ""), ("news.ycombinator.com/item", "h"), ("www.google.com/", "h"),
             ("Hacker News", "g"), ("spring", "c"), ("duckduckgo.com/", "h")]  # fmt: skip
PAGES = 2000
SCREENS = ["1920,1080,1", "390,844,3", "1440,900,2", "2560,1440,1", ""]


def generate(path: Path, rows: int, seed: int = 11) -> int:
    """Write ``rows`` rows; returns how many are page views (not bots)."""
    pick = random.Random(seed)  # noqa: S311 - test data, not secrets
    # Page popularity follows Zipf's law (s = 1), as web traffic does: a few posts get
    # most views. Cumulative weights, so each pick is one bisect.
    weights = list(itertools.accumulate(1 / rank for rank in range(1, PAGES + 1)))
    start = datetime(2025, 1, 1, tzinfo=UTC)
    step = timedelta(days=365) / rows
    views = 0
    with path.open("w", newline="", encoding="utf-8") as out:
        out.write(HEADER + "\n")
        writer = csv.writer(out, lineterminator="\n")
        session = ""
        for number in range(rows):
            if number % 3 == 0:
                session = f"{pick.getrandbits(64):016x}"
            bot = "1" if pick.random() < 0.01 else "0"
            views += bot == "0"
            referrer, scheme = pick.choice(REFERRERS)
            at = start + step * number
            writer.writerow((
                f"/posts/{bisect.bisect(weights, pick.random() * weights[-1])}", "A post", "0",
                "Mozilla/5.0 (X11) Firefox/133",
                pick.choice(BROWSERS), pick.choice(SYSTEMS), session, bot, referrer, scheme,
                pick.choice(SCREENS), pick.choice(COUNTRIES), "1",
                at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            ))  # fmt: skip
    return views


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pt-bench-import-") as folder:
        export = Path(folder) / "goatcounter.csv"
        began = time.perf_counter()
        views = generate(export, arguments.rows)
        print(f"generated {arguments.rows} rows ({export.stat().st_size >> 20} MiB) "
              f"in {time.perf_counter() - began:.1f} s")  # fmt: skip
        engine = make_engine(arguments.database_url or f"sqlite:///{folder}/bench.sqlite3")
        migrate.upgrade(engine)
        factory = sessionmaker(bind=engine, expire_on_commit=False)
        with factory() as session:
            site = create_site(session, "bench.example")
            session.commit()
            site_id = site.id
        began = time.perf_counter()
        cpu_began = time.process_time()
        importer = GoatCounterImport(export, {"bench.example"})
        report = ImportRunner(factory).run(site_id, importer)
        took = time.perf_counter() - began
        cpu = time.process_time() - cpu_began  # SQLite runs in this process: all the work
        counted = DatabaseCounterReader(factory).read(site_id, "/").site_pv
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss >> 10
        print(f"imported {report.rows} rows in {took:.1f} s: {report.rows / took:,.0f} rows/s "
              f"(CPU {cpu:.1f} s: {report.rows / cpu:,.0f} rows/s), "
              f"peak RSS {peak} MiB")  # fmt: skip
        assert counted == views, (counted, views)  # noqa: S101 - the one check of a benchmark
        engine.dispose()


if __name__ == "__main__":
    main()
