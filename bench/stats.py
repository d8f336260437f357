"""Stats read benchmark: one year of a busy site read through the stats API's service.

Run: ``make bench-stats`` (or ``.venv/bin/python -m bench.stats --help``). For each
database it creates a throwaway database on the local server, migrates it and fills the
rollups in bulk with SQL as a year of about 10 M hits on 20 000 pages would leave them
(365 site days, 8 760 site hours, 2 000 pages a day: 730 000 daily page rows), then
times :func:`page_tracker.stats.report.summary` (totals, previous period, daily series)
plus the top 10 pages, once on a new connection ("cold": nothing cached by the app) and
as the median of ``--repeat`` runs; in UTC (daily rollups) and in Europe/Berlin (hourly
rollups). The database is dropped afterwards.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import date

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bench.flush import SERVERS, drop, provision
from page_tracker import migrate
from page_tracker.db import make_engine
from page_tracker.stats import report

PAGES = 20_000
PAGES_A_DAY = 2_000
DAYS = 365
SITE = "benchsite001"
START = date(2025, 1, 1)


def _fill(engine: Engine, kind: str) -> float:
    postgres = kind == "postgresql"

    def series(n: int) -> str:
        return f"generate_series(0, {n - 1}) AS g(i)" if postgres else f"seq_0_to_{n - 1} AS g"

    i = "i" if postgres else "seq"
    div = "/" if postgres else "DIV"
    day = (
        (lambda n: f"DATE '{START}' + ({n})")
        if postgres
        else (lambda n: f"DATE '{START}' + INTERVAL ({n}) DAY")
    )
    hour = (
        (lambda n: f"TIMESTAMP '{START}' + ({n}) * INTERVAL '1 hour'")
        if postgres
        else (lambda n: f"TIMESTAMP '{START} 00:00:00' + INTERVAL ({n}) HOUR")
    )
    started = time.monotonic()
    with engine.begin() as connection:
        connection.execute(
            text(
                f"INSERT INTO stat_paths (site_id, path) SELECT '{SITE}', CONCAT('/p/', {i}) "
                f"FROM {series(PAGES)}"
            )
        )
        first = connection.execute(text("SELECT MIN(id) FROM stat_paths")).scalar_one()
        page_day = f"({i} {div} {PAGES_A_DAY})"
        connection.execute(
            text(
                "INSERT INTO stat_daily (site_id, day, path_id, pageviews, visitors) "
                f"SELECT '{SITE}', {day(page_day)}, "
                f"{first} + ({i} % {PAGES_A_DAY}) * 10 + {page_day} % 10, "
                f"1 + {i} % 37, 1 + {i} % 19 FROM {series(DAYS * PAGES_A_DAY)}"
            )
        )
        connection.execute(
            text(
                "INSERT INTO stat_daily (site_id, day, path_id, pageviews, visitors) "
                f"SELECT '{SITE}', {day(i)}, 0, 27000 + {i}, 9000 FROM {series(DAYS)}"
            )
        )
        connection.execute(
            text(
                "INSERT INTO stat_hourly (site_id, path_id, hour, pageviews, visitors) "
                f"SELECT '{SITE}', 0, {hour(i)}, 1100 + {i} % 97, 375 FROM {series(DAYS * 24)}"
            )
        )
        # stat_monthly as the write path leaves it (and migration 0007 backfills it).
        month = (
            "CAST(date_trunc('month', day) AS date)"
            if postgres
            else ("CAST(DATE_FORMAT(day, '%Y-%m-01') AS DATE)")
        )
        connection.execute(
            text(
                "INSERT INTO stat_monthly (site_id, path_id, month, pageviews, visitors) "
                f"SELECT site_id, path_id, {month}, SUM(pageviews), SUM(visitors) "
                f"FROM stat_daily GROUP BY site_id, path_id, {month}"
            )
        )
    if postgres:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE"))
    return time.monotonic() - started


# (label, first day, last day): a calendar year (whole months only) and the same length
# with edges mid-month (11 months and 2 x ~15 edge days)
RANGES = (("year", START, date(2025, 12, 31)), ("mid-month", date(2025, 1, 16), date(2026, 1, 15)))


def _read(engine: Engine, tz: str, first: date, last: date) -> float:
    rng = report.make_range(first, last, tz, report.Interval.DAY)
    started = time.perf_counter()
    with Session(engine) as session:
        found = report.summary(session, SITE, rng, report.Interval.DAY)
        pages = report.breakdown(session, SITE, rng, "pages", limit=10)
    elapsed = time.perf_counter() - started
    # sanity: a full series and top pages (in Berlin from the UTC months and days inside
    # the range: the edge hours have no page rows here)
    assert len(found.series) == rng.days  # noqa: S101
    assert len(pages.items) == 10  # noqa: S101
    return elapsed * 1000


def run(kind: str, repeat: int) -> None:
    name = "pt_bench_stats"
    url = provision(kind, name)
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
        filled = _fill(engine, kind)
        for label, first, last in RANGES:
            for tz in ("UTC", "Europe/Berlin"):
                engine.dispose()  # a new connection: nothing the app or driver kept
                cold = _read(engine, tz, first, last)
                warm = statistics.median(_read(engine, tz, first, last) for _ in range(repeat))
                print(
                    f"{kind:<11} {label:<9} {tz:<14} cold {cold:7.1f} ms   "
                    f"median {warm:7.1f} ms   (fill {filled:.0f} s)"
                )
    finally:
        engine.dispose()
        drop(kind, name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--databases", default="postgresql,mariadb")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    for kind in args.databases.split(","):
        if kind not in SERVERS:
            parser.error(f"unknown database {kind}")
        run(kind, args.repeat)


if __name__ == "__main__":
    main()
