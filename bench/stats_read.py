"""One checkout's reads of the stats benchmark's database (run by ``bench/stats.py``).

Started as a separate process by the interpreter of the checkout being measured (this
one, or ``--before``'s), in that checkout's directory, so that it imports that
checkout's ``page_tracker``: it uses only what every checkout has (``create_app``,
``report``, ``through_cache``, the stats API and the dashboard). Prints one JSON object:
``{case: [milliseconds, ...]}``.

- ``service`` rows: ``report.summary`` (totals, previous period, daily series) plus the
  top 10 pages through the read cache as the stats API reads them; ``cold`` drops the
  site's cached reads and the connections first (a new connection, nothing cached by
  the app), ``cached`` reads again;
- ``api``: ``GET /api/v1/sites/ID/stats`` and ``.../stats/pages?limit=10`` through the
  Flask test client, cold and cached alike;
- ``dashboard``: ``GET /dashboard/sites/ID`` for 30 days through the test client.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable
from datetime import date
from typing import Any

from page_tracker.app import close_app, create_app
from page_tracker.cache import CACHE
from page_tracker.db import DATABASE, get_session
from page_tracker.settings import load_settings
from page_tracker.stats import report
from page_tracker.stats.breakdowns import breakdown
from page_tracker.stats.cached import BREAKDOWN_NODE, SUMMARY_NODE, through_cache
from page_tracker.stats.filters import Filter
from page_tracker.stats.ranges import Interval, make_range


def _service(app: Any, site: str, first: date, last: date, tz: str) -> Callable[[], None]:
    def read() -> None:
        with app.app_context():
            _summary_and_pages(site, first, last, tz)

    return read


def _summary_and_pages(site: str, first: date, last: date, tz: str) -> None:
    rng = make_range(first, last, tz, Interval.DAY)
    session = get_session()
    interval, where = Interval.DAY, Filter()
    found = through_cache(
        SUMMARY_NODE,
        site,
        ("summary", rng, interval, where),
        lambda: report.summary(session, site, rng, interval, where),
    )
    pages = through_cache(
        BREAKDOWN_NODE,
        site,
        ("breakdown", rng, "pages", 10, 0, "campaign", None),
        lambda: breakdown(session, site, rng, "pages", limit=10),
    )
    assert len(found.series) == rng.days  # noqa: S101
    assert len(pages.items) == 10  # noqa: S101


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--site", required=True)
    parser.add_argument("--email", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--cases", required=True, help="JSON list of [name, kind, args]")
    parser.add_argument("--redis-url", help="Redis mode: this Redis...")
    parser.add_argument("--redis-prefix", default="pt-bench-stats:", help="...under this prefix")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as logs:
        env = {"DATABASE_URL": args.url, "LOG_DIR": logs, "PAGE_TRACKER_ENV": "test"}
        if args.redis_url:
            env.update(REDIS_URL=args.redis_url, REDIS_KEY_PREFIX=args.redis_prefix)
        settings = load_settings(**env)
        app = create_app(settings=settings)
        try:
            print(json.dumps(_measure(app, args)))
        finally:
            close_app(app)


def _measure(app: Any, args: argparse.Namespace) -> dict[str, list[float]]:
    client = app.test_client()
    signed = client.post("/api/v1/session", json={"email": args.email, "password": args.password})
    assert signed.status_code == 200, signed.get_data(as_text=True)  # noqa: S101
    engine = DATABASE.get(app).engine

    def get(*urls: str) -> Callable[[], None]:
        def read() -> None:
            for url in urls:
                answer = client.get(url)
                assert answer.status_code == 200, answer.get_data(as_text=True)  # noqa: S101

        return read

    found: dict[str, list[float]] = {}
    for name, kind, case in json.loads(args.cases):
        if kind == "service":
            first, last, tz = date.fromisoformat(case[0]), date.fromisoformat(case[1]), case[2]
            read = _service(app, args.site, first, last, tz)
        else:
            read = get(*(url.replace("SITE", args.site) for url in case))
        read()  # imports, templates, plans: not what is measured
        for _ in range(args.repeat):
            CACHE.get(app).invalidate([args.site])
            engine.dispose()  # a new connection
            started = time.perf_counter()
            read()
            found.setdefault(f"{name} cold", []).append((time.perf_counter() - started) * 1e3)
        for _ in range(args.repeat):
            started = time.perf_counter()
            read()
            found.setdefault(f"{name} cached", []).append((time.perf_counter() - started) * 1e3)
    return found


if __name__ == "__main__":
    main()
