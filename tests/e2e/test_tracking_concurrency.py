"""Exactness under concurrency: many parallel clients against a real server.

Every accepted hit must be exactly one page view in the database, and every distinct
reader exactly one unique visitor, on each database.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from page_tracker.db import make_engine
from page_tracker.stats.models import SITE, DailyCount, DailyDimensionCount, Dimension
from page_tracker.stats.rollup import ENTRY_PAGE
from tests.e2e.server import Server

HITS = 480
CLIENTS = 24
READERS = 40
PAGES = ("/", "/a", "/b", "/c")


def reader_agent(number: int) -> str:
    return (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        f"Chrome/120.0.{number}.0 Safari/537.36"
    )


@pytest.fixture
def tracker(clean_database: str, tmp_path: Path) -> Iterator[Server]:
    server = Server(
        tmp_path,
        {
            "PAGE_TRACKER_ENV": "production",
            "SECRET_KEY": "concurrency-" + "k" * 32,
            "DATABASE_URL": clean_database,
        },
        workers=3,
    )
    yield server.start()
    server.stop()


def send(base: str, site: str, number: int) -> str:
    with requests.Session() as http:
        response = http.post(
            f"{base}/api/v1/hits",
            data=json.dumps(
                {"site": site, "url": f"https://example.com{PAGES[number % len(PAGES)]}"}
            ),
            headers={"Content-Type": "text/plain", "User-Agent": reader_agent(number % READERS)},
            timeout=30,
        )
    assert response.status_code == 202
    return response.headers["X-Page-Tracker-Reason"]


def test_should_count_every_accepted_hit_exactly_once(tracker: Server, clean_database: str) -> None:
    created = tracker.run_cli("sites", "create", "example.com", "--public-counters")
    assert created.returncode == 0, created.stderr
    site = created.stdout.strip().splitlines()[-1]

    with ThreadPoolExecutor(CLIENTS) as pool:
        reasons = Counter(pool.map(lambda n: send(tracker.url, site, n), range(HITS)))

    assert reasons == {"accepted": HITS}
    totals = requests.get(f"{tracker.url}/api/v1/counters/{site}?path=/a", timeout=10).json()
    assert totals == {
        "site_pv": HITS,
        "site_uv": READERS,
        "page_pv": HITS // len(PAGES),
        "page_uv": READERS // len(PAGES),
    }
    # and each daily visitor entered once (the first of their concurrent views)
    # (more than READERS only if the run crossed midnight UTC: new daily visitors)
    entrances, visitors, daily = entrances_and_visitors(clean_database, site)
    assert entrances == visitors == daily >= READERS


def entrances_and_visitors(url: str, site: str) -> tuple[int, int, int]:
    """(entrances, their visitors, daily visitors of the site) over all days."""
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            entries = session.execute(
                select(
                    func.sum(DailyDimensionCount.pageviews), func.sum(DailyDimensionCount.visitors)
                )
                .join(Dimension, Dimension.id == DailyDimensionCount.dimension_id)
                .where(DailyDimensionCount.site_id == site, Dimension.kind == ENTRY_PAGE)
            ).one()
            daily = session.scalar(
                select(func.sum(DailyCount.visitors)).where(
                    DailyCount.site_id == site, DailyCount.path_id == SITE
                )
            )
    finally:
        engine.dispose()
    return int(entries[0] or 0), int(entries[1] or 0), int(daily or 0)
