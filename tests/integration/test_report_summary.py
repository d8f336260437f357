"""A summary (:func:`page_tracker.stats.report.summary`: the series, its totals and the
previous period's, read in one statement) equals plain sums of the finest rollup on every
database: in UTC the daily rows by UTC day, in any other zone the hourly rows by the local
day (or month) of their start, across DST changes, a 30-minute offset and a 30-minute
DST change, for the site and for one page."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, insert
from sqlalchemy.orm import Session

from page_tracker.stats import report
from page_tracker.stats.filters import Filter
from page_tracker.stats.models import SITE, DailyCount, HourlyCount, Path
from page_tracker.stats.ranges import Interval, Range

FIRST = datetime(2025, 2, 20)  # 90 days: the spring changes of Europe and Brazil's none
SPAN_DAYS = 90
ZONES = (
    "Europe/Berlin",
    "America/Sao_Paulo",
    "America/Santiago",
    "Asia/Kolkata",
    "Australia/Lord_Howe",
    "UTC",
)
_sites = itertools.count()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    hours=st.dictionaries(
        st.tuples(st.integers(0, SPAN_DAYS * 24 - 1), st.booleans()),
        st.integers(1, 5),
        max_size=60,
    ),
    days=st.dictionaries(
        st.tuples(st.integers(0, SPAN_DAYS - 1), st.booleans()), st.integers(1, 9), max_size=30
    ),
    zone=st.sampled_from(ZONES),
    first=st.integers(1, SPAN_DAYS // 2 - 1),
    length=st.integers(1, SPAN_DAYS // 2 - 1),
    interval=st.sampled_from([Interval.DAY, Interval.MONTH]),
    page=st.booleans(),
)
def test_should_sum_the_series_and_both_periods_as_plain_sums_do(
    engine: Engine,
    *,
    hours: dict[tuple[int, bool], int],
    days: dict[tuple[int, bool], int],
    zone: str,
    first: int,
    length: int,
    interval: Interval,
    page: bool,
) -> None:
    # Given hourly and daily rows of the site and of one page (not kept in step on
    # purpose: the summary must read only the rollup that answers its zone)
    site = f"rs{next(_sites):010d}"
    with Session(engine) as session, session.begin():
        path = Path(site_id=site, path="/a")
        session.add(path)
        session.flush()
        ids = {False: SITE, True: path.id}
        hourly = [
            {
                "site_id": site,
                "path_id": ids[of_page],
                "hour": FIRST + timedelta(hours=h),
                "pageviews": v,
                "visitors": v % 3,
            }
            for (h, of_page), v in hours.items()
        ]
        daily = [
            {
                "site_id": site,
                "path_id": ids[of_page],
                "day": FIRST.date() + timedelta(days=d),
                "pageviews": v,
                "visitors": v % 4,
            }
            for (d, of_page), v in days.items()
        ]
        if hourly:
            session.execute(insert(HourlyCount), hourly)
        if daily:
            session.execute(insert(DailyCount), daily)
    tz = ZoneInfo(zone)
    start = FIRST.date() + timedelta(days=first)
    rng = Range(start, start + timedelta(days=length - 1), tz)
    # When the summary reads the range
    with Session(engine) as session:
        found = report.summary(session, site, rng, interval, Filter(page="/a" if page else None))
    # Then it holds the plain sums of the rows of the finest rollup of its zone
    wanted = ids[page]

    def expected(span: Range) -> Counter[tuple[object, str]]:
        sums: Counter[tuple[object, str]] = Counter()
        if span.utc_aligned:
            rows = [
                (FIRST.date() + timedelta(days=d), v, v % 4)
                for (d, of_page), v in days.items()
                if ids[of_page] == wanted
            ]
        else:
            rows = [
                (
                    (FIRST + timedelta(hours=h)).replace(tzinfo=UTC).astimezone(tz).date(),
                    v,
                    v % 3,
                )
                for (h, of_page), v in hours.items()
                if ids[of_page] == wanted
            ]
        for local, pv, uv in rows:
            if span.start <= local <= span.end:
                key = local if interval is Interval.DAY else (local.year, local.month)
                sums[(key, "pv")] += pv
                sums[(key, "uv")] += uv
        return sums

    now = expected(rng)
    series: Counter[tuple[object, str]] = Counter()
    for point in found.series:
        key = (
            date.fromisoformat(point.period)
            if interval is Interval.DAY
            else tuple(int(part) for part in point.period.split("-"))
        )
        series[(key, "pv")] += point.pageviews
        series[(key, "uv")] += point.visitors
    assert +series == +now
    assert found.totals == report.Totals(
        sum(v for (_k, kind), v in now.items() if kind == "pv"),
        sum(v for (_k, kind), v in now.items() if kind == "uv"),
    )
    before = expected(rng.previous())
    assert found.previous == report.Totals(
        sum(v for (_k, kind), v in before.items() if kind == "pv"),
        sum(v for (_k, kind), v in before.items() if kind == "uv"),
    )
