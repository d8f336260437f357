"""stat_monthly: the sum of stat_daily after every write path (embedded batches, the
Redis flush; imports are in imports/test_goatcounter.py), and the pages breakdown that
reads it equals the plain sum of the daily (UTC) or hourly (other zones) rollup."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from page_tracker.buffer.flush import Flusher
from page_tracker.buffer.redis_sink import RedisSink
from page_tracker.db import make_engine
from page_tracker.stats import rollup
from page_tracker.stats.breakdowns import Item, breakdown
from page_tracker.stats.models import SITE, DailyCount, HourlyCount, Path
from page_tracker.stats.pageview import PageView
from page_tracker.stats.ranges import Range
from tests.integration.monthly import assert_months_are_sums_of_days

FIRST = datetime(2025, 12, 29, tzinfo=UTC)  # views over three month boundaries
SPAN_MINUTES = 70 * 24 * 60
PATHS = ("/", "/a", "/b", "/c/d")
ZONES = ("UTC", "Europe/Berlin", "Asia/Kolkata", "America/St_Johns", "Pacific/Kiritimati")
_sites = itertools.count()


def new_site() -> str:
    return f"mon{next(_sites):09d}"


def make_view(site: str, path: str, visitor: int, minute: int) -> PageView:
    token = visitor.to_bytes(16, "big")
    return PageView(
        site_id=site,
        path=path,
        hostname="example.com",
        timestamp=FIRST + timedelta(minutes=minute),
        visitor=token,
        lifetime_visitor=token,
    )


def plain_pages(session: Session, site: str, rng: Range) -> list[Item]:
    """The pages breakdown summed in Python from stat_daily (UTC) or stat_hourly."""
    names = dict(session.execute(select(Path.id, Path.path).where(Path.site_id == site)).all())
    views: Counter[int] = Counter()
    visitors: Counter[int] = Counter()
    if rng.utc_aligned:
        rows = session.execute(
            select(DailyCount.path_id, DailyCount.pageviews, DailyCount.visitors).where(
                DailyCount.site_id == site,
                DailyCount.path_id != SITE,
                DailyCount.day >= rng.start,
                DailyCount.day <= rng.end,
            )
        )
    else:
        low, high = rng.utc_bounds()
        rows = session.execute(
            select(HourlyCount.path_id, HourlyCount.pageviews, HourlyCount.visitors).where(
                HourlyCount.site_id == site,
                HourlyCount.path_id != SITE,
                HourlyCount.hour >= low,
                HourlyCount.hour < high,
            )
        )
    for path_id, pv, uv in rows:
        views[path_id] += pv
        visitors[path_id] += uv
    items = [Item(names[p], views[p], visitors[p]) for p in views]
    return sorted(items, key=lambda item: (-item.pageviews, item.value))


views_strategy = st.lists(
    st.tuples(
        st.sampled_from(PATHS),
        st.integers(1, 6),  # visitor
        st.integers(0, SPAN_MINUTES),
    ),
    min_size=1,
    max_size=40,
)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    hits=views_strategy,
    batches=st.integers(1, 3),
    zone=st.sampled_from(ZONES),
    first=st.integers(-3, 72),
    days=st.integers(1, 75),
)
def test_should_answer_pages_from_months_as_the_plain_daily_or_hourly_sum(
    engine: Engine,
    *,
    hits: list[tuple[str, int, int]],
    batches: int,
    zone: str,
    first: int,
    days: int,
) -> None:
    # Given views across month boundaries, written in a few batches (as embedded mode does)
    site = new_site()
    views = [make_view(site, *hit) for hit in hits]
    size = -(-len(views) // batches)
    for start in range(0, len(views), size):
        with Session(engine) as session, session.begin():
            rollup.apply(session, views[start : start + size])
    start = date(2025, 12, 29) + timedelta(days=first)
    rng = Range(start, start + timedelta(days=days - 1), ZoneInfo(zone))
    with Session(engine) as session:
        # Then each month is the sum of its days
        assert_months_are_sums_of_days(session, site)
        # and the pages of any range in any zone are the plain sums
        expected = plain_pages(session, site, rng)
        found = breakdown(session, site, rng, "pages", limit=100)
    assert [(i.value, i.pageviews, i.visitors) for i in found.items] == [
        (i.value, i.pageviews, i.visitors) for i in expected
    ]
    assert found.total == len(expected)


def test_should_page_through_a_breakdown_of_whole_months_and_edge_days(engine: Engine) -> None:
    # Given /a viewed on 2026-01-31 and in February, /b on 2026-03-01 only
    site = new_site()
    day = 24 * 60
    hits = [("/a", 1, 33 * day), ("/a", 2, 35 * day), ("/a", 1, 36 * day), ("/b", 3, 62 * day)]
    with Session(engine) as session, session.begin():
        rollup.apply(session, [make_view(site, *hit) for hit in hits])
    # When asked for 2026-01-31 .. 2026-03-01 in UTC (an edge day, a month, an edge day)
    rng = Range(date(2026, 1, 31), date(2026, 3, 1), ZoneInfo("UTC"))
    with Session(engine) as session:
        first = breakdown(session, site, rng, "pages", limit=1)
        second = breakdown(session, site, rng, "pages", limit=1, offset=1)
        past = breakdown(session, site, rng, "pages", limit=1, offset=2)
        february = breakdown(
            session, site, Range(date(2026, 2, 1), date(2026, 2, 28), ZoneInfo("UTC")), "pages"
        )
    # Then every piece counts, once
    assert [(i.value, i.pageviews, i.visitors) for i in first.items] == [("/a", 3, 3)]
    assert [(i.value, i.pageviews) for i in second.items] == [("/b", 1)]
    assert (past.items, past.total, first.total) == ([], 2, 2)
    assert [(i.value, i.pageviews) for i in february.items] == [("/a", 2)]


def test_should_keep_months_the_sum_of_days_through_the_redis_flush(
    clean_database: str, redis_url: str, redis_prefix: str
) -> None:
    # Given views on both sides of a month boundary waiting in Redis
    site = new_site()
    end_of_january = 33 * 24 * 60 - 1  # 2026-01-31 23:59 UTC
    views = [
        make_view(site, path, visitor, end_of_january + offset)
        for offset in (-90, 0, 1, 2, 60 * 24)
        for path, visitor in (("/", 1), ("/a", 2), ("/a", 1))
    ]
    client = redis.Redis.from_url(redis_url)
    engine = make_engine(clean_database)
    try:
        sink = RedisSink(client, redis_prefix)
        sink.submit(views[:7])
        sink.submit(views[7:])
        # When the flush writes them
        sessions = sessionmaker(engine, expire_on_commit=False)
        result = Flusher(client, redis_prefix, sessions).flush(max_seconds=60)
        assert result.views == len(views)
        # Then January and February are the sums of their days
        with Session(engine) as session:
            assert_months_are_sums_of_days(session, site)
            rng = Range(date(2026, 1, 1), date(2026, 2, 28), ZoneInfo("UTC"))
            pages = breakdown(session, site, rng, "pages")
        assert [(i.value, i.pageviews) for i in pages.items] == [("/a", 10), ("/", 5)]
    finally:
        keys = list(client.scan_iter(f"{redis_prefix}*"))
        if keys:
            client.delete(*keys)
        client.close()
        engine.dispose()
