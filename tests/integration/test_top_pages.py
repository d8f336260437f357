"""The top pages read by the threshold algorithm (:mod:`page_tracker.stats.top_pages`)
and the count of the pages equal the plain ``GROUP BY`` of the hourly rollup, ties and
all, on every database: for
random rollups (few pages, few distinct counts: many ties), random spans across month
boundaries, limits, offsets and first depths (so that the bound, not the end of the
lists, stops the reading)."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import datetime, timedelta
from typing import Any
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, insert, select
from sqlalchemy.orm import Session

from page_tracker.stats import page_years
from page_tracker.stats import top_pages as threshold
from page_tracker.stats.cover import cover, signed_cover
from page_tracker.stats.models import (
    SITE,
    DailyCount,
    HourlyCount,
    MonthlyCount,
    Path,
    month_of,
)
from page_tracker.stats.page_count import count_pages
from page_tracker.stats.pages import ranked_pages
from page_tracker.stats.top_pages import top_pages

FIRST = datetime(2025, 12, 20)  # hours over three month boundaries
SPAN_HOURS = 85 * 24
# Names whose order differs between collations (case, punctuation): both queries sort
# them in SQL, so they must agree on any database.
NAMES = ("/", "/a", "/B", "/a-b", "/ab", "/b", "/A/b", "/c", "/Z", "/z", "/é", "/e")
_sites = itertools.count()


def _store(
    session: Session, site: str, rows: list[tuple[int, int, int, int]], first: datetime = FIRST
) -> None:
    """Hourly rows (page, hour number after ``first``, views, visitors) and the days,
    months, site rows and years of each page (months and sums) the write path keeps."""
    ids = []
    for name in NAMES:
        path = Path(site_id=site, path=name)
        session.add(path)
        session.flush()
        ids.append(path.id)
    hours: Counter[tuple[int, datetime]] = Counter()
    hour_visitors: Counter[tuple[int, datetime]] = Counter()
    for page, hour, views, visitors in rows:
        for path_id in (ids[page], SITE):
            at = first + timedelta(hours=hour)
            hours[path_id, at] += views
            hour_visitors[path_id, at] += visitors
    coarser: dict[Any, tuple[Counter[Any], Counter[Any]]] = {
        DailyCount: (Counter(), Counter()),
        MonthlyCount: (Counter(), Counter()),
    }
    for (path_id, at), views in hours.items():
        for table, key in ((DailyCount, at.date()), (MonthlyCount, month_of(at.date()))):
            coarser[table][0][path_id, key] += views
            coarser[table][1][path_id, key] += hour_visitors[path_id, at]
    if not hours:
        session.commit()
        return
    session.execute(
        insert(HourlyCount),
        [
            {
                "site_id": site,
                "path_id": p,
                "hour": h,
                "pageviews": v,
                "visitors": hour_visitors[p, h],
            }
            for (p, h), v in hours.items()
        ],
    )
    months, month_visitors = coarser[MonthlyCount]
    page_years.mark(
        session, ((site, month, p, v, month_visitors[p, month]) for (p, month), v in months.items())
    )
    for table, moment in ((DailyCount, "day"), (MonthlyCount, "month")):
        views_of, visitors_of = coarser[table]
        session.execute(
            insert(table),
            [
                {
                    "site_id": site,
                    "path_id": p,
                    moment: k,
                    "pageviews": v,
                    "visitors": visitors_of[p, k],
                }
                for (p, k), v in views_of.items()
            ],
        )
    session.commit()


def _plain(session: Session, site: str, low: datetime, high: datetime) -> list[tuple[Any, ...]]:
    """Every page of ``[low, high)`` from the hourly rollup: one GROUP BY, ranked by views
    then path in SQL (the order the pages breakdown promises)."""
    views = func.sum(HourlyCount.pageviews)
    rows = session.execute(
        select(Path.path, views, func.sum(HourlyCount.visitors))
        .join(Path, Path.id == HourlyCount.path_id)
        .where(
            HourlyCount.site_id == site,
            HourlyCount.path_id != SITE,
            HourlyCount.hour >= low,
            HourlyCount.hour < high,
        )
        .group_by(Path.path)
        .order_by(views.desc(), Path.path)
    )
    return [(path, int(pv), int(uv)) for path, pv, uv in rows]


rows_strategy = st.lists(
    st.tuples(
        st.integers(0, len(NAMES) - 1),
        st.integers(0, SPAN_HOURS - 1),
        st.integers(0, 4),  # few distinct counts: ties everywhere (and rows of 0 views)
        st.integers(0, 2),
    ),
    min_size=0,
    max_size=60,
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    rows=rows_strategy,
    first=st.integers(-40 * 24, SPAN_HOURS),  # from November: whole months of two years
    hours=st.integers(1, SPAN_HOURS),
    limit=st.integers(1, 6),
    offset=st.integers(0, 8),
    depth=st.integers(1, 4),
    candidates=st.sampled_from([0, 1, 2, 1000]),
)
def test_should_rank_the_top_pages_as_the_plain_group_by(
    engine: Engine,
    *,
    rows: list[tuple[int, int, int, int]],
    first: int,
    hours: int,
    limit: int,
    offset: int,
    depth: int,
    candidates: int,
) -> None:
    # Given random rollups of a site
    site = f"top{next(_sites):09d}"
    with Session(engine) as session:
        _store(session, site, rows)
    low = FIRST + timedelta(hours=first)
    high = low + timedelta(hours=hours)
    with Session(engine) as session:
        expected = _plain(session, site, low, high)
        # When the threshold algorithm reads them, from a small first depth
        top = top_pages(session, site, cover(low, high), limit=limit, offset=offset, depth=depth)
        # and the pages breakdown answers (threshold or plain query, with the count)
        total, ranked = ranked_pages(session, site, low, high, limit=limit, offset=offset)
        # and the pages are counted on their own (from the years' months and the edges,
        # the edge-only pages read by id or, past ``candidates``, with every edge page)
        counted = count_pages(session, site, cover(low, high), candidates=candidates)
    # Then both rank exactly as the plain query does, and count every page
    page = expected[offset : offset + limit]
    if top is not None:  # None: it left the span to the plain query
        assert [(p.path, p.pageviews, p.visitors) for p in top.pages] == page
        assert top.total in (None, len(expected))
    assert [(p.path, p.pageviews, p.visitors) for p in ranked] == page
    assert total == len(expected)
    assert counted == len(expected)


def test_should_stop_reading_when_no_other_page_can_reach_the_first(engine: Engine) -> None:
    # Given a few popular pages and a long tail over two whole months (and March 1st)
    site = f"top{next(_sites):09d}"
    january, february, march = 12 * 24, 43 * 24, 71 * 24  # hours after FIRST
    rows = [(page, hour, 40 - 9 * page, 1) for page in range(4) for hour in (january, february)]
    rows += [(page, february + 5, 1, 1) for page in range(4, len(NAMES))]
    rows += [(5, march + 2, 3, 1)]
    with Session(engine) as session:
        _store(session, site, rows)
    low, high = FIRST + timedelta(hours=january), FIRST + timedelta(hours=march + 24)
    with Session(engine) as session:
        # When the two best are asked for, one row a month read first
        top = top_pages(session, site, cover(low, high), limit=2, offset=0, depth=1)
        expected = _plain(session, site, low, high)
    # Then the bound stopped the reading (not every page was read) with the plain answer
    assert top is not None
    assert top.total is None
    assert [(p.path, p.pageviews, p.visitors) for p in top.pages] == expected[:2]


def test_should_leave_flat_data_to_the_plain_query(engine: Engine) -> None:
    # Given twelve pages with one view each in each of two months (all tie)
    site = f"top{next(_sites):09d}"
    rows = [(page, hour, 1, 1) for page in range(len(NAMES)) for hour in (300, 1100)]
    with Session(engine) as session:
        _store(session, site, rows)
    low, high = FIRST, FIRST + timedelta(hours=SPAN_HOURS)
    with Session(engine) as session:
        # When reading one row a month at a time with room for four rows only
        span = cover(low, high)
        gave_up = top_pages(session, site, span, limit=3, offset=0, depth=1, max_rows=4)
        # and the breakdown asks (with its own depth: every page in one go)
        total, ranked = ranked_pages(session, site, low, high, limit=3, offset=0)
        expected = _plain(session, site, low, high)
    # Then the threshold algorithm gives up (no page beats what the others may hold)
    assert gave_up is None
    # and the answer is the plain one
    assert [(p.path, p.pageviews, p.visitors) for p in ranked] == expected[:3]
    assert total == len(NAMES)


def test_should_stop_early_on_a_span_of_days_across_two_months(engine: Engine) -> None:
    # Given a few popular pages and a long tail in the days around New Year, with more
    # of the same pages outside the span in both months
    site = f"top{next(_sites):09d}"
    span = [day * 24 + 3 for day in range(5, 20)]  # 25 Dec to 8 Jan
    rows = [(page, hour, 40 - 9 * page, 1) for page in range(4) for hour in span]
    rows += [(page, 5 * 24 + 7, 1, 1) for page in range(4, len(NAMES))]
    rows += [(page, 25 * 24, 30, 1) for page in range(4, 8)]  # 14 Jan: outside the span
    with Session(engine) as session:
        _store(session, site, rows)
    low, high = FIRST + timedelta(days=5), FIRST + timedelta(days=20)
    pieces = cover(low, high)
    assert not pieces.months  # days only
    with Session(engine) as session:
        # When the two best are asked for, one row a month read first
        top = top_pages(session, site, pieces, limit=2, offset=0, depth=1)
        expected = _plain(session, site, low, high)
        total, ranked = ranked_pages(session, site, low, high, limit=2, offset=0)
    # Then the months' rows bounded the reading, with the plain answer and count
    assert top is not None
    assert top.total is None
    assert [(p.path, p.pageviews, p.visitors) for p in top.pages] == expected[:2]
    assert [(p.path, p.pageviews, p.visitors) for p in ranked] == expected[:2]
    assert total == len(expected)


# Two years and a half: spans touching most of a year, bounded by the years' lists.
LONG_FIRST = datetime(2024, 10, 20)
LONG_HOURS = 900 * 24


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    rows=st.lists(
        st.tuples(
            st.integers(0, len(NAMES) - 1),
            st.integers(0, LONG_HOURS - 1),
            st.integers(0, 4),  # few distinct counts: ties everywhere
            st.integers(0, 2),
        ).filter(lambda row: row[2] or row[3]),  # as stored: a view or a visitor
        max_size=80,
    ),
    first=st.one_of(
        st.integers(0, LONG_HOURS),
        # midnight of January 1st in UTC or one hour away (a zone's year)
        st.sampled_from([(73 + d) * 24 + h for d in (0, 365) for h in (-1, 0, 1)]),
    ),
    days=st.one_of(st.integers(150, 800), st.sampled_from([365, 366, 730])),
    extra=st.sampled_from([-1, 0, 0, 1]),
    limit=st.integers(1, 6),
    offset=st.integers(0, 8),
    depth=st.integers(1, 4),
    most=st.sampled_from([threshold.MAX_CANDIDATES, 0, 2]),
)
def test_should_rank_long_spans_from_the_years_as_the_plain_group_by(
    engine: Engine,
    *,
    rows: list[tuple[int, int, int, int]],
    first: int,
    days: int,
    extra: int,
    limit: int,
    offset: int,
    depth: int,
    most: int,
) -> None:
    # Given random rollups of a site over two years and a half
    site = f"top{next(_sites):09d}"
    with Session(engine) as session:
        _store(session, site, rows, LONG_FIRST)
    low = LONG_FIRST + timedelta(hours=first)
    high = low + timedelta(days=days, hours=extra)
    with Session(engine) as session:
        expected = _plain(session, site, low, high)
        # When the threshold algorithm reads them (years' lists where a span touches
        # most of a year), from a small first depth, giving up where more than ``most``
        # pages have more views in a list than the k-th exact total found
        with mock.patch.object(threshold, "MAX_CANDIDATES", most):
            top = top_pages(
                session, site, cover(low, high), limit=limit, offset=offset, depth=depth
            )
            total, ranked = ranked_pages(session, site, low, high, limit=limit, offset=offset)
    # Then it ranks exactly as the plain query does, ties by path included (the plain
    # query reading such spans as whole years minus the rest)
    page = expected[offset : offset + limit]
    if top is not None:
        assert [(p.path, p.pageviews, p.visitors) for p in top.pages] == page
        assert top.total in (None, len(expected))
    assert [(p.path, p.pageviews, p.visitors) for p in ranked] == page
    assert total == len(expected)


def _year_hour(day: int, hour: int = 12) -> int:
    """Hours after LONG_FIRST of ``hour`` on day ``day`` of 2025 (0: January 1st)."""
    return (73 + day) * 24 + hour


def test_should_settle_a_year_where_every_page_ties_in_one_round(engine: Engine) -> None:
    # Given twelve pages with the same views in every month of 2025 (all tie on the year)
    site = f"top{next(_sites):09d}"
    rows = [(page, _year_hour(31 * m), 3, 1) for page in range(len(NAMES)) for m in range(12)]
    with Session(engine) as session:
        _store(session, site, rows, LONG_FIRST)
    low = LONG_FIRST + timedelta(hours=_year_hour(0, 0))
    high = low + timedelta(days=365)
    with Session(engine) as session:
        # When the three first are asked for, one page of the year read first
        top = top_pages(session, site, cover(low, high), limit=3, offset=0, depth=4)
        expected = _plain(session, site, low, high)
    # Then the year's list, read by views then path, settled the ties without reading on
    assert top is not None
    assert top.total is None
    assert [(p.path, p.pageviews, p.visitors) for p in top.pages] == expected[:3]


def test_should_read_on_when_a_page_tied_on_the_year_loses_an_edge_hour(engine: Engine) -> None:
    # Given pages tied on 2025, the first of them (by path) seen in its last hour too
    site = f"top{next(_sites):09d}"
    rows = [(page, _year_hour(40), 5, 1) for page in range(len(NAMES))]
    rows += [(0, _year_hour(364, 23), 1, 1)]
    rows += [(page, _year_hour(200), 1, 1) for page in range(len(NAMES)) if page]
    with Session(engine) as session:
        _store(session, site, rows, LONG_FIRST)
    # When the year is read in a zone one hour east of UTC (its last UTC hour is out)
    low = LONG_FIRST + timedelta(hours=_year_hour(0, -1))
    high = low + timedelta(days=365)
    with Session(engine) as session:
        top = top_pages(session, site, cover(low, high), limit=2, offset=0, depth=2)
        total, ranked = ranked_pages(session, site, low, high, limit=2, offset=0)
        expected = _plain(session, site, low, high)
    # Then the page that lost its hour is not first, as the plain query says
    assert expected[0][0] != NAMES[0]
    if top is not None:
        assert [(p.path, p.pageviews, p.visitors) for p in top.pages] == expected[:2]
    assert [(p.path, p.pageviews, p.visitors) for p in ranked] == expected[:2]
    assert total == len(expected)


def test_should_give_up_after_one_round_when_a_cut_year_is_flat(engine: Engine) -> None:
    # Given pages tied on 2025, each of them seen in the first days of January too
    site = f"top{next(_sites):09d}"
    rows = [(page, _year_hour(40 + page), 5, 1) for page in range(len(NAMES))]
    rows += [(page, _year_hour(page % 3), 1 + page % 2, 1) for page in range(len(NAMES))]
    with Session(engine) as session:
        _store(session, site, rows, LONG_FIRST)
    # When 365 days from January 4th are read (every page loses its early views), with
    # room for ten candidates' exact totals
    low = LONG_FIRST + timedelta(hours=_year_hour(3, 0))
    high = low + timedelta(days=365)
    rounds = mock.Mock(wraps=threshold._exact)  # counting its rounds of exact totals
    with (
        Session(engine) as session,
        mock.patch.object(threshold, "MAX_CANDIDATES", 10),
        mock.patch.object(threshold, "_exact", rounds),
    ):
        top = top_pages(session, site, cover(low, high), limit=2, offset=0, depth=2)
        exact_rounds = rounds.call_count
        total, ranked = ranked_pages(session, site, low, high, limit=2, offset=0)
        expected = _plain(session, site, low, high)
    # Then it gave up after its first round of exact totals (every page of the year has
    # more views than the second best read: more than it would ever read), and the
    # plain query answered
    assert top is None
    assert exact_rounds == 1
    assert [(p.path, p.pageviews, p.visitors) for p in ranked] == expected[:2]
    assert total == len(expected)


YEAR_START = datetime(2024, 12, 29)  # rows over the edges of 2025, spans of about a year
YEAR_HOURS = 375 * 24


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    rows=st.lists(
        st.tuples(
            st.integers(0, len(NAMES) - 1),
            st.one_of(
                # the days around the edges of 2025, where the signed cover cuts
                st.integers(1 * 24, 4 * 24),
                st.integers(YEAR_HOURS - 9 * 24, YEAR_HOURS - 5 * 24),
                st.integers(0, YEAR_HOURS - 1),
            ),
            st.integers(0, 4),
            st.integers(0, 2),
        ).filter(lambda row: row[2] or row[3]),  # a stored row holds a view or a visitor
        max_size=60,
    ),
    zone_hours=st.integers(-14, 14),  # a zone's calendar year: the UTC one shifted
    minutes=st.sampled_from([0, 30, 45]),
    days=st.sampled_from([0, 1, -1, 2]),  # a year and a day or two more or less
    limit=st.integers(1, 6),
    offset=st.integers(0, 8),
    depth=st.integers(1, 4),
)
def test_should_rank_a_zoned_year_from_its_signed_cover_as_the_plain_group_by(
    engine: Engine,
    *,
    rows: list[tuple[int, int, int, int]],
    zone_hours: int,
    minutes: int,
    days: int,
    limit: int,
    offset: int,
    depth: int,
) -> None:
    # Given random rollups of a site around the edges of 2025
    site = f"tzy{next(_sites):09d}"
    with Session(engine) as session:
        _store(session, site, rows, YEAR_START)
    # and a year in a zone (its UTC year shifted by hours, or half and three quarters)
    shift = timedelta(hours=zone_hours, minutes=minutes if zone_hours >= 0 else -minutes)
    low = datetime(2025, 1, 1) - shift
    high = datetime(2026, 1, 1) + timedelta(days=days) - shift
    signed = signed_cover(low, high)
    with Session(engine) as session:
        expected = _plain(session, site, low, high)
        # When the threshold algorithm reads the exact totals off the signed cover
        top = top_pages(
            session,
            site,
            cover(low, high),
            limit=limit,
            offset=offset,
            depth=depth,
            signed=signed,
        )
        # and the pages breakdown answers
        total, ranked = ranked_pages(session, site, low, high, limit=limit, offset=offset)
    # Then both rank exactly as the plain query does
    page = expected[offset : offset + limit]
    if top is not None:
        assert [(p.path, p.pageviews, p.visitors) for p in top.pages] == page
        assert top.total in (None, len(expected))
    assert [(p.path, p.pageviews, p.visitors) for p in ranked] == page
    assert total == len(expected)
