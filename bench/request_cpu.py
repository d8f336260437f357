"""CPU milliseconds of one *cached* read request in-process: the stats API and the
dashboard's site page, with what surrounds the cached report (authentication, site access,
freshness, JSON, templates).

Run: ``python -m bench.request_cpu --database sqlite --mode embedded`` (or
``--database postgresql|mariadb``, ``--mode redis``). Builds this checkout's app on a
throwaway database (a SQLite file, or a database on the local server that is dropped
afterwards), with one viewer of one site, a ``read`` token and rollups shaped like a busy
site's (730 site days, 500 pages a day for 60 days and their months, 12 values of each
dimension a day, so every dashboard table shows 10 rows). Then, through Flask's test
client, it reads each request once (the cache fills) and ``--requests`` times more,
and prints the median CPU time of the thread per request (``time.thread_time``), the
median wall time (``time.perf_counter``) and the round trips a request makes
(:class:`Trips`: database statements, pool pings, rollbacks and commits, pool
checkouts, and in Redis mode Redis commands):

- ``api stats (token)``: ``GET /api/v1/sites/ID/stats`` of a calendar year by day;
- ``api pages (token)``: ``GET .../stats/pages?limit=10`` of the year;
- ``api stats (session)``: the first, with the browser session instead of the token;
- ``dashboard 30 days``: ``GET /dashboard/sites/ID`` of 30 days (custom range, UTC).

``--profile`` prints ``cProfile``'s top functions of each. For an A/B, run each
checkout's copy of this file in turn (``python -m bench.request_cpu`` in each), A B A B.
Redis mode starts a private redis-server on a free port (or uses ``--redis-url`` under a
fresh key prefix, whose keys are deleted afterwards). The throwaway database's name ends
with ``--db-tag`` (a helper's branch name, so that concurrent runs never share one).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import redis
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from bench.flush import drop, provision
from bench.harness import start_redis
from bench.round_trips import Trips
from page_tracker import migrate
from page_tracker.app import close_app, create_app
from page_tracker.auth.tokens import Scope, issue_token
from page_tracker.db import DATABASE
from page_tracker.settings import load_settings
from page_tracker.sites.services import create_site
from page_tracker.stats.models import (
    DailyCount,
    DailyDimensionCount,
    Dimension,
    HourlyCount,
    MonthlyCount,
)
from page_tracker.stats.models import (
    Path as PagePath,
)
from page_tracker.users.memberships import set_member
from page_tracker.users.models import MemberRole
from page_tracker.users.services import create_user

EMAIL = "bench@example.com"
PASSWORD = "bench request password"  # noqa: S105 - a throwaway database's user
FIRST = date(2024, 1, 1)
START = datetime(2024, 1, 1)
DAYS = 730
PAGES = 500
PAGE_DAYS = 60  # the last days of the data, with page rows
KINDS = ("browser", "os", "device", "country", "referrer_host", "utm_campaign", "entry_page")
VALUES = 12


def _fill(session: Session, site: str) -> None:
    days = [FIRST + timedelta(days=n) for n in range(DAYS)]
    session.execute(
        insert(DailyCount),
        [
            {"site_id": site, "day": d, "path_id": 0, "pageviews": 900 + n, "visitors": 300}
            for n, d in enumerate(days)
        ],
    )
    session.execute(insert(PagePath), [{"site_id": site, "path": f"/p/{n}"} for n in range(PAGES)])
    ids = list(session.scalars(select(PagePath.id).where(PagePath.site_id == site)))
    recent = days[-PAGE_DAYS:]
    session.execute(
        insert(DailyCount),
        [
            {"site_id": site, "day": d, "path_id": i, "pageviews": 1 + 5000 // (r + 1),
             "visitors": 1 + 2000 // (r + 1)}
            for d in recent
            for r, i in enumerate(ids)
        ],
    )  # fmt: skip
    months = sorted({d.replace(day=1) for d in recent})
    session.execute(
        insert(MonthlyCount),
        [
            {"site_id": site, "month": m, "path_id": i, "pageviews": 30 * (1 + 5000 // (r + 1)),
             "visitors": 30 * (1 + 2000 // (r + 1))}
            for m in months
            for r, i in enumerate(ids)
        ],
    )  # fmt: skip
    session.execute(
        insert(HourlyCount),
        [
            {"site_id": site, "path_id": 0, "hour": START + timedelta(hours=h),
             "pageviews": 40, "visitors": 12}
            for h in range(DAYS * 24 - 24 * PAGE_DAYS, DAYS * 24)
        ],
    )  # fmt: skip
    session.execute(
        insert(Dimension),
        [{"kind": kind, "value": f"{kind[:2]}{n}"} for kind in KINDS for n in range(VALUES)],
    )
    dimensions = list(session.scalars(select(Dimension.id)))
    session.execute(
        insert(DailyDimensionCount),
        [
            {"site_id": site, "day": d, "dimension_id": i, "pageviews": 10 + i, "visitors": 3}
            for d in recent
            for i in dimensions
        ],
    )
    session.commit()


def _database(kind: str, folder: Path, tag: str) -> tuple[str, Callable[[], None]]:
    if kind == "sqlite":
        return f"sqlite:///{folder / 'pt.db'}", lambda: None
    name = f"pt_bench_request_{tag}_{os.getpid()}" if tag else f"pt_bench_request_{os.getpid()}"
    return provision(kind, name), lambda: drop(kind, name)


def _cases(site: str) -> list[tuple[str, str, dict[str, str]]]:
    year = "from=2025-01-01&to=2025-12-31&tz=UTC"
    last = FIRST + timedelta(days=DAYS - 1)
    month = f"range=custom&from={last - timedelta(days=29)}&to={last}&tz=UTC"
    return [
        ("api stats (token)", f"/api/v1/sites/{site}/stats?{year}&interval=day", {"token": "1"}),
        ("api pages (token)", f"/api/v1/sites/{site}/stats/pages?{year}&limit=10", {"token": "1"}),
        ("api stats (session)", f"/api/v1/sites/{site}/stats?{year}&interval=day", {}),
        ("dashboard 30 days", f"/dashboard/sites/{site}?{month}", {}),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="sqlite", choices=("sqlite", "postgresql", "mariadb"))
    parser.add_argument("--mode", default="embedded", choices=("embedded", "redis"))
    parser.add_argument("--redis-url", help="an existing Redis (default: a private one)")
    parser.add_argument("--db-tag", default="", help="put into the throwaway database's name")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--json", action="store_true", help="one JSON line of medians")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pt-bench-request-") as folder:
        url, dropped = _database(args.database, Path(folder), args.db_tag)
        prefix = f"ptbenchreq{os.getpid()}:"
        env = {"DATABASE_URL": url, "LOG_DIR": folder, "PAGE_TRACKER_ENV": "test"}
        env["EMBEDDED_JOBS"] = "false"
        server = None
        if args.mode == "redis":
            if args.redis_url is None:
                server, args.redis_url = start_redis(Path(folder) / "redis")
            env.update(REDIS_URL=args.redis_url, REDIS_KEY_PREFIX=prefix)
        app = create_app(settings=load_settings(**env), configure_logging=False)
        try:
            found = _run(app, args, private_redis=server is not None)
        finally:
            close_app(app)
            dropped()
            if server is not None:
                server.stop()
            elif args.mode == "redis":
                client = redis.Redis.from_url(args.redis_url)
                keys = list(client.scan_iter(f"{prefix}*"))
                if keys:
                    client.delete(*keys)
                client.close()
    if args.json:
        print(json.dumps(found))
        return
    print(f"load {' '.join(f'{v:.1f}' for v in os.getloadavg())}")
    for case, found_case in found.items():
        trips = ", ".join(f"{k} {v:g}" for k, v in found_case["trips"].items())
        print(
            f"{args.database} {args.mode} {case}: {found_case['cpu']:.2f} ms CPU, "
            f"{found_case['wall']:.2f} ms wall (medians); per request: {trips}"
        )


def _run(app: Any, args: argparse.Namespace, *, private_redis: bool) -> dict[str, Any]:
    with app.app_context():
        engine = DATABASE.get(app).engine
        migrate.upgrade(engine)
        with Session(engine) as session:
            user = create_user(session, EMAIL, PASSWORD)
            site = create_site(session, "bench.example").id
            set_member(session, site, user, MemberRole.VIEWER)
            _token, clear = issue_token(session, user, [Scope.READ], expires_in=timedelta(days=1))
            session.commit()
            _fill(session, site)
    trips = Trips(
        DATABASE.get(app).engine, redis.Redis.from_url(args.redis_url) if private_redis else None
    )
    client = app.test_client()
    signed = client.post("/api/v1/session", json={"email": EMAIL, "password": PASSWORD})
    assert signed.status_code == 200, signed.get_data(as_text=True)  # noqa: S101
    found: dict[str, Any] = {}
    for name, url, how in _cases(site):
        headers = {"Authorization": f"Bearer {clear}"} if how.get("token") else {}
        get = client.get if not how.get("token") else app.test_client().get

        def read(get: Any = get, url: str = url, headers: dict[str, str] = headers) -> None:
            answer = get(url, headers=headers)
            assert answer.status_code == 200, answer.get_data(as_text=True)[:500]  # noqa: S101

        read()
        read()
        samples, walls = [], []
        counted = trips.snapshot()
        for _ in range(args.requests):
            started, began = time.thread_time(), time.perf_counter()
            read()
            walls.append((time.perf_counter() - began) * 1e3)
            samples.append((time.thread_time() - started) * 1e3)
        found[name] = {
            "cpu": statistics.median(samples),
            "wall": statistics.median(walls),
            "trips": Trips.per_request(counted, trips.snapshot(), args.requests),
        }
        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(50):
                read()
            profiler.disable()
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(45)
            print(f"==== {name}\n{out.getvalue()}")
    return found


if __name__ == "__main__":
    main()
