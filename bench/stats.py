"""Stats read benchmark: one year of a busy site read through the stats API's services,
the stats API and the dashboard, by this checkout and (``--before``) another one.

Run: ``make bench-stats`` (or ``.venv/bin/python -m bench.stats --help``). For each
database and data shape it creates a throwaway database on the local server, migrates it
and fills the rollups in bulk with SQL as a year of about 10 M hits on 20 000 pages would
leave them (365 site days, 8 760 site hours, 2 000 page rows a day: 730 000 daily page
rows), then runs ``bench/stats_read.py`` with each checkout's interpreter in turn
(``--rounds``), which times, cold (a new connection, the site's cached reads dropped) and
cached (through the read cache), ``--repeat`` times each:

- ``report.summary`` (totals, previous period, daily series) plus the top 10 pages, for
  a calendar year and for 365 days with mid-month edges, in UTC and Europe/Berlin;
- the stats API's ``/stats`` and ``/stats/pages?limit=10`` for the year in UTC;
- the dashboard's site page for 30 days (2025-11-15 to 2025-12-14).

Medians of every round's samples, and before / after. Shapes: ``flat`` (every page
seen every tenth day with 1 to 37 views: thousands of pages tie, the worst case for a
top-k) and ``zipf`` (1 000 pages seen daily with views falling as 1/rank, the other
19 000 every 19th day with 1 to 3 views). The database is dropped afterwards, unless
``--keep``: then it is filled once, named by the shape, kept, migrated and reused by
later runs (``--drop-kept`` drops it).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from bench.flush import SERVERS, drop, provision
from page_tracker import migrate
from page_tracker.db import make_engine
from page_tracker.sites.services import create_site
from page_tracker.users.memberships import set_member
from page_tracker.users.models import MemberRole
from page_tracker.users.services import create_user

PAGES = 20_000
PAGES_A_DAY = 2_000
DAYS = 365
START = date(2025, 1, 1)
ROOT = Path(__file__).resolve().parent.parent
EMAIL = "bench@example.com"
PASSWORD = "bench stats password"  # noqa: S105 - a throwaway database's user
SHAPES = ("flat", "zipf")
HEAD = 1_000  # zipf: the pages seen every day
TAIL_EVERY = 19  # zipf: the other pages, each seen every 19th day


def _page_rows(i: str, div: str, first: int, shape: str) -> tuple[str, str, str, str]:
    """SQL of (day number, path id, page views, visitors) of generated row ``i``."""
    day = f"({i} {div} {PAGES_A_DAY})"
    if shape == "flat":
        path = f"{first} + ({i} % {PAGES_A_DAY}) * 10 + {day} % 10"
        return day, path, f"1 + {i} % 37", f"1 + {i} % 19"
    j = f"({i} % {PAGES_A_DAY})"
    t = f"({j} - {HEAD})"
    # views of rank j: 3 400 / (j + 1), times 0.8 to 1.2 by day (ranks next to each
    # other trade places); about 27 000 views a day in all
    head_views = f"1 + (3400 * (8 + ({day} * 7 + {j} * 13) % 5)) {div} (10 * ({j} + 1))"
    path = (
        f"CASE WHEN {j} < {HEAD} THEN {first} + {j} "
        f"ELSE {first} + {HEAD} + {t} * {TAIL_EVERY} + {day} % {TAIL_EVERY} END"
    )
    views = f"CASE WHEN {j} < {HEAD} THEN {head_views} ELSE 1 + ({day} + {t}) % 3 END"
    visitors = f"1 + ({views}) * 2 {div} 3"
    return day, path, views, visitors


def _fill(engine: Engine, kind: str, site: str, shape: str) -> float:
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
                f"INSERT INTO stat_paths (site_id, path) SELECT '{site}', CONCAT('/p/', {i}) "
                f"FROM {series(PAGES)}"
            )
        )
        first = connection.execute(text("SELECT MIN(id) FROM stat_paths")).scalar_one()
        page_day, path, views, visitors = _page_rows(i, div, first, shape)
        connection.execute(
            text(
                "INSERT INTO stat_daily (site_id, day, path_id, pageviews, visitors) "
                f"SELECT '{site}', {day(page_day)}, {path}, {views}, {visitors} "
                f"FROM {series(DAYS * PAGES_A_DAY)}"
            )
        )
        connection.execute(
            text(
                "INSERT INTO stat_daily (site_id, day, path_id, pageviews, visitors) "
                f"SELECT '{site}', {day(i)}, 0, 27000 + {i}, 9000 FROM {series(DAYS)}"
            )
        )
        connection.execute(
            text(
                "INSERT INTO stat_hourly (site_id, path_id, hour, pageviews, visitors) "
                f"SELECT '{site}', 0, {hour(i)}, 1100 + {i} % 97, 375 FROM {series(DAYS * 24)}"
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
        # stat_page_years as the write path leaves it (and migrations 0013 and 0015 backfill
        # it): one row a page and year, bit m - 1 for each month m with a row (a sum of
        # distinct bits is their OR), the year's page views and visitors
        year, number = (
            (
                "CAST(EXTRACT(YEAR FROM month) AS INTEGER)",
                "CAST(EXTRACT(MONTH FROM month) AS INTEGER)",
            )
            if postgres
            else ("YEAR(month)", "MONTH(month)")
        )
        connection.execute(
            text(
                "INSERT INTO stat_page_years (site_id, year, path_id, months, pageviews, "
                f"visitors) SELECT site_id, {year}, path_id, SUM(1 << ({number} - 1)), "
                "SUM(pageviews), SUM(visitors) FROM stat_monthly "
                f"WHERE path_id <> 0 GROUP BY site_id, {year}, path_id"
            )
        )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        # as autovacuum would leave them: planner statistics (and PostgreSQL's
        # visibility map, which index-only scans need)
        if postgres:
            connection.execute(text("VACUUM ANALYZE"))
        else:
            for table in (
                "stat_paths",
                "stat_daily",
                "stat_hourly",
                "stat_monthly",
                "stat_page_years",
            ):
                connection.execute(text(f"ANALYZE TABLE {table}"))
    return time.monotonic() - started


# (label, first day, last day): a calendar year (whole months only) and the same length
# with edges mid-month (11 months and 2 x ~15 edge days)
RANGES = (("year", START, date(2025, 12, 31)), ("mid-month", date(2025, 1, 16), date(2026, 1, 15)))


def _site(engine: Engine) -> str:
    """A site with a member to sign in as (the API and the dashboard check access)."""
    with Session(engine) as session:
        user = create_user(session, EMAIL, PASSWORD)
        site = create_site(session, "bench.example")
        set_member(session, site.id, user, MemberRole.VIEWER)
        session.commit()
        return site.id


def _cases() -> list[tuple[str, str, list[str]]]:
    cases: list[tuple[str, str, list[str]]] = [
        (f"{label} {tz}", "service", [first.isoformat(), last.isoformat(), tz])
        for label, first, last in RANGES
        for tz in ("UTC", "Europe/Berlin")
    ]
    year = "from=2025-01-01&to=2025-12-31&tz=UTC"
    cases.append(
        (
            "API year UTC",
            "http",
            [
                f"/api/v1/sites/SITE/stats?{year}&interval=day",
                f"/api/v1/sites/SITE/stats/pages?{year}&limit=10",
            ],
        )
    )
    month = "range=custom&from=2025-11-15&to=2025-12-14&tz=UTC"
    cases.append(("dashboard 30 days", "http", [f"/dashboard/sites/SITE?{month}"]))
    return cases


def _reader(python: str, checkout: Path, url: str, site: str, repeat: int) -> dict[str, Any]:
    """Run ``bench/stats_read.py`` with ``python`` in ``checkout`` (its page_tracker)."""
    command = [python, str(Path(__file__).with_name("stats_read.py")), "--url", url]
    command += ["--site", site, "--email", EMAIL, "--password", PASSWORD]
    command += ["--repeat", str(repeat), "--cases", json.dumps(_cases())]
    done = subprocess.run(  # noqa: S603 - our own interpreters and script
        command, cwd=checkout, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"{checkout}: reader failed\n{done.stderr[-4000:]}")
    found: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def _kept_site(kind: str, name: str) -> tuple[str, str] | None:
    """The URL and site of a database a run with ``--keep`` filled, if it is there."""
    url = make_url(SERVERS[kind]).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            site = connection.execute(text("SELECT id FROM sites")).scalar()
    except DBAPIError:
        return None
    finally:
        engine.dispose()
    return (url, site) if site else None


def _filled(kind: str, name: str, shape: str) -> tuple[str, str]:
    """A new database of ``name`` filled with a year of ``shape``: its URL and site."""
    url = provision(kind, name)
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
        site = _site(engine)
        filled = _fill(engine, kind, site, shape)
    finally:
        engine.dispose()
    print(f"{kind}: {shape} year filled in {filled:.0f} s; load {_load()}")
    return url, site


def run(kind: str, args: argparse.Namespace) -> None:
    # other checkouts may bench at the same time: a name of this process, or of the shape
    # for --keep (one fill for many runs; migrated to this checkout's head each run)
    name = _kept_name(args.shape, args.tag) if args.keep else f"pt_bench_stats_{os.getpid()}"
    kept = _kept_site(kind, name) if args.keep else None
    if kept is not None:
        engine = make_engine(kept[0])
        migrate.upgrade(engine)
        engine.dispose()
        print(f"{kind}: {args.shape} year kept in {name}; load {_load()}")
    url, site = kept or _filled(kind, name, args.shape)
    variants = [("after", sys.executable, ROOT)]
    if args.before:
        before = Path(args.before)
        variants.insert(0, ("before", str(before / ".venv" / "bin" / "python"), before))
    try:
        times: dict[str, dict[str, list[float]]] = {label: {} for label, _, _ in variants}
        for _ in range(args.rounds):  # variants in turn: a change of load touches both
            for label, python, checkout in variants:
                for case, samples in _reader(python, checkout, url, site, args.repeat).items():
                    times[label].setdefault(case, []).extend(samples)
        print(f"{kind}: done; load {_load()}")
        _table(kind, args.shape, times)
    finally:
        if not args.keep:
            drop(kind, name)


def _kept_name(shape: str, tag: str) -> str:
    """The kept database of ``shape``; ``tag`` keeps one checkout's migrations (a
    branch's new head) away from the kept databases other checkouts bench on."""
    return f"pt_bench_stats_keep_{shape}" + (f"_{tag}" if tag else "")


def _load() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def _table(kind: str, shape: str, times: dict[str, dict[str, list[float]]]) -> None:
    after = times["after"]
    before = times.get("before", {})
    print("| database | data | read | before ms | after ms | before / after |")
    print("|---|---|---|---:|---:|---:|")
    for case, samples in after.items():
        now = statistics.median(samples)
        then = statistics.median(before[case]) if case in before else None
        ratio = f"{then / now:.1f}x" if then is not None else ""
        was = f"{then:,.1f}" if then is not None else ""
        print(f"| {kind} | {shape} | {case} | {was} | {now:,.1f} | {ratio} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--databases", default="postgresql,mariadb")
    parser.add_argument("--shapes", default="flat,zipf", help="flat, zipf or both")
    parser.add_argument("--repeat", type=int, default=5, help="reads of each kind a round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of before, after")
    parser.add_argument("--before", help="another checkout (with .venv) to compare with")
    parser.add_argument(
        "--keep",
        action="store_true",
        help="fill pt_bench_stats_keep_SHAPE once, leave it, and reuse it on later runs",
    )
    parser.add_argument("--drop-kept", action="store_true", help="drop the kept databases")
    parser.add_argument(
        "--tag", default="", help="suffix of the kept databases' names (e.g. a branch name)"
    )
    args = parser.parse_args()
    if args.drop_kept:
        for kind in args.databases.split(","):
            for shape in SHAPES:
                drop(kind, _kept_name(shape, args.tag))
        return
    for kind in args.databases.split(","):
        if kind not in SERVERS:
            parser.error(f"unknown database {kind}")
        for shape in args.shapes.split(","):
            if shape not in SHAPES:
                parser.error(f"unknown shape {shape}")
            run(kind, argparse.Namespace(**{**vars(args), "shape": shape}))


if __name__ == "__main__":
    main()
