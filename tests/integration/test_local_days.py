"""Hourly rows summed by local day in SQL (:mod:`page_tracker.stats.local_days`) equal
the hour-by-hour bucketing in Python (each UTC hour in the local day of its start) on
every database, in zones with DST, half-hour offsets and changes at local midnight."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, insert
from sqlalchemy.orm import Session

from page_tracker.stats.local_days import sums_by_local_day
from page_tracker.stats.models import SITE, HourlyCount

FIRST = datetime(2025, 3, 25)  # the spring changes of Europe and Chile's autumn one ahead
SPAN_HOURS = 30 * 24
ZONES = ("Europe/Berlin", "America/Santiago", "Asia/Kolkata", "Australia/Lord_Howe", "UTC")
_sites = itertools.count()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    hours=st.dictionaries(st.integers(0, SPAN_HOURS - 1), st.integers(0, 5), max_size=80),
    zone=st.sampled_from(ZONES),
    first=st.integers(-30, SPAN_HOURS),
    length=st.integers(0, SPAN_HOURS),
    minute=st.sampled_from([0, 30]),
)
def test_should_sum_hours_by_local_day_as_python_buckets_them(
    engine: Engine, *, hours: dict[int, int], zone: str, first: int, length: int, minute: int
) -> None:
    # Given the site's hourly rows over DST changes
    site = f"ld{next(_sites):010d}"
    rows = [(FIRST + timedelta(hours=h), views) for h, views in hours.items()]
    with Session(engine) as session, session.begin():
        if rows:
            session.execute(
                insert(HourlyCount),
                [
                    {
                        "site_id": site,
                        "path_id": SITE,
                        "hour": at,
                        "pageviews": v,
                        "visitors": v % 2,
                    }
                    for at, v in rows
                ],
            )
    tz = ZoneInfo(zone)
    low = FIRST + timedelta(hours=first, minutes=minute)
    high = low + timedelta(hours=length)
    # When they are summed by local day in SQL
    with Session(engine) as session:
        where = (HourlyCount.site_id == site) & (HourlyCount.path_id == SITE)
        found = sums_by_local_day(session, HourlyCount, where, low=low, high=high, zone=tz)
    summed: Counter[tuple[date, str]] = Counter()
    for day, pv, uv in found:
        assert isinstance(day, date)
        summed[(day, "pv")] += pv
        summed[(day, "uv")] += uv
    # Then each local day holds the hours Python puts in it
    expected: Counter[tuple[date, str]] = Counter()
    for at, views in rows:
        if low <= at < high:
            local = at.replace(tzinfo=UTC).astimezone(tz).date()
            expected[(local, "pv")] += views
            expected[(local, "uv")] += views % 2
    assert +summed == +expected
