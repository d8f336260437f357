"""stats.rollup.apply on each database: exact counts, uniques, dimensions, raw hits."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from page_tracker.enrich import Enrichment
from page_tracker.stats import purge, rollup
from page_tracker.stats.ids import IdCache
from page_tracker.stats.models import (
    SITE,
    DailyCount,
    DailyDimensionCount,
    DailyPathDimensionCount,
    Dimension,
    Hit,
    HourlyCount,
    PageYear,
    Path,
    Total,
)
from page_tracker.stats.pageview import PageView
from page_tracker.stats.ranges import Interval, Range
from page_tracker.stats.report import summary

NOON = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)


def view(
    path: str = "/",
    visitor: int = 1,
    *,
    at: datetime = NOON,
    site: str = "site00000001",
    title: str | None = None,
    keep_raw: bool = False,
    **found: str | None,
) -> PageView:
    """A view; ``found`` are its enrichment's fields (``browser="Firefox"`` ...)."""
    return PageView(
        site_id=site,
        path=path,
        hostname="example.com",
        timestamp=at,
        visitor=visitor.to_bytes(16, "big"),
        lifetime_visitor=(visitor + 1000).to_bytes(16, "big"),
        title=title,
        keep_raw=keep_raw,
        enrichment=Enrichment(**found),  # type: ignore[arg-type]
    )


def apply(engine: Engine, views: list[PageView], cache: IdCache | None = None) -> None:
    with Session(engine) as session, session.begin():
        rollup.apply(session, views, cache)


def totals(engine: Engine, site: str = "site00000001") -> dict[str, tuple[int, int]]:
    with Session(engine) as session:
        rows = session.execute(
            select(Path.path, Total.pageviews, Total.visitors)
            .select_from(Total)
            .outerjoin(Path, Path.id == Total.path_id)
            .where(Total.site_id == site)
        )
        return {path or "(site)": (pv, uv) for path, pv, uv in rows}


def test_should_count_views_and_unique_visitors_across_batches(engine: Engine) -> None:
    cache = IdCache()
    apply(engine, [view("/a", 1), view("/a", 1), view("/b", 2)], cache)
    apply(engine, [view("/a", 2), view("/b", 2), view("/c", 3)], cache)
    apply(engine, [view("/a", 1)])  # a fresh cache finds the existing ids

    assert totals(engine) == {
        "(site)": (7, 3),
        "/a": (4, 2),
        "/b": (2, 1),
        "/c": (1, 1),
    }
    with Session(engine) as session:
        daily = dict(
            session.execute(
                select(DailyCount.path_id, DailyCount.visitors).where(DailyCount.path_id == SITE)
            ).all()
        )
        site_hours, page_hours = (
            session.execute(select(func.sum(HourlyCount.pageviews)).where(where)).scalar_one()
            for where in (HourlyCount.path_id == SITE, HourlyCount.path_id != SITE)
        )
        site_hour = session.execute(
            select(HourlyCount.pageviews, HourlyCount.visitors).where(HourlyCount.path_id == SITE)
        ).one()
    assert daily == {SITE: 3}
    assert site_hours == page_hours == 7  # the site's rows add up to its pages' rows
    assert tuple(site_hour) == (7, 3)


def test_should_count_daily_visitors_per_day_and_all_time_visitors_once(engine: Engine) -> None:
    tomorrow = NOON + timedelta(days=1)
    apply(engine, [view("/", 1), view("/", 2, at=tomorrow)])
    # The same person gets another daily hash tomorrow (new salt) but the same lifetime hash.
    apply(engine, [view_same_person(tomorrow)])
    with Session(engine) as session:
        days = Range(NOON.date(), tomorrow.date(), ZoneInfo("UTC"))
        series = summary(session, "site00000001", days, Interval.DAY).series
        assert [(point.period, point.pageviews, point.visitors) for point in series] == [
            (NOON.date().isoformat(), 1, 1),
            (tomorrow.date().isoformat(), 2, 2),
        ]
    assert totals(engine)["(site)"] == (3, 2)


def view_same_person(at: datetime) -> PageView:
    first = view("/", 1)
    return PageView(
        site_id=first.site_id,
        path="/",
        hostname=first.hostname,
        timestamp=at,
        visitor=(99).to_bytes(16, "big"),
        lifetime_visitor=first.lifetime_visitor,
    )


def test_should_count_dimensions_with_visitors_credited_to_their_first_view(
    engine: Engine,
) -> None:
    apply(
        engine,
        [
            view("/", 1, browser="Firefox", country="DE", referrer_source="Hacker News"),
            view("/x", 1, browser="Firefox", country="DE"),
            view("/", 2, browser="Chrome", browser_version="120", country=None),
        ],
    )
    with Session(engine) as session:
        rows = session.execute(
            select(
                Dimension.kind,
                Dimension.value,
                DailyDimensionCount.pageviews,
                DailyDimensionCount.visitors,
            ).join(DailyDimensionCount, DailyDimensionCount.dimension_id == Dimension.id)
        ).all()
    found = {(kind, value): (pv, uv) for kind, value, pv, uv in rows}
    assert found[("browser", "Firefox")] == (2, 1)
    assert found[("browser", "Chrome")] == (1, 1)
    assert found[("browser_version", "Chrome 120")] == (1, 1)
    assert found[("country", "DE")] == (2, 1)
    assert found[("referrer_source", "Hacker News")] == (1, 1)
    assert ("country", "None") not in found


def test_should_count_each_pages_views_per_crossed_dimension_value(engine: Engine) -> None:
    # Given visitor 1 reading / from Hacker News, then /x from nowhere, then / again from
    # nowhere; visitor 2 reading / in Chrome; and values that are not crossed with pages
    apply(
        engine,
        [
            view("/", 1, browser="Firefox", country="DE", referrer_host="news.ycombinator.com"),
            view("/x", 1, browser="Firefox", country="DE"),
            view("/", 1, browser="Firefox", country="DE", screen_class="phone"),
            view("/", 2, browser="Chrome", browser_version="120", utm_campaign="spring"),
        ],
    )
    with Session(engine) as session:
        rows = session.execute(
            select(
                Path.path,
                Dimension.kind,
                Dimension.value,
                DailyPathDimensionCount.pageviews,
                DailyPathDimensionCount.visitors,
            )
            .join(Path, Path.id == DailyPathDimensionCount.path_id)
            .join(Dimension, Dimension.id == DailyPathDimensionCount.dimension_id)
        ).all()
    found = {(path, kind, value): (pv, uv) for path, kind, value, pv, uv in rows}
    assert found[("/", "device", "other")] == (3, 2)  # Enrichment()'s default
    found = {key: counts for key, counts in found.items() if key[1] not in {"os", "device"}}
    # Then each page has its own views, and a visitor counts once a page and day, with
    # the values of their first view of that page (here: from Hacker News)
    assert found == {
        ("/", "browser", "Firefox"): (2, 1),
        ("/", "country", "DE"): (2, 1),
        ("/", "referrer_host", "news.ycombinator.com"): (1, 1),
        ("/", "browser", "Chrome"): (1, 1),
        ("/", "utm_campaign", "spring"): (1, 1),
        ("/x", "browser", "Firefox"): (1, 1),
        ("/x", "country", "DE"): (1, 1),
    }
    # and the pages' views of a value add up to the site's
    with Session(engine) as session:
        site_firefox = session.execute(
            select(DailyDimensionCount.pageviews)
            .join(Dimension, Dimension.id == DailyDimensionCount.dimension_id)
            .where(Dimension.kind == "browser", Dimension.value == "Firefox")
        ).scalar_one()
    pages_firefox = [views for (_, _, value), (views, _) in found.items() if value == "Firefox"]
    assert site_firefox == sum(pages_firefox)


def test_should_keep_raw_hits_only_for_sites_that_ask_and_delete_them_after_retention(
    engine: Engine,
) -> None:
    old = NOON - timedelta(days=40)
    apply(engine, [view("/", 1, keep_raw=True), view("/", 2, at=old, keep_raw=True), view("/")])
    with Session(engine) as session, session.begin():
        assert session.scalar(select(func.count()).select_from(Hit)) == 2
        deleted = purge.delete_raw_hits_before(session, "site00000001", date(2026, 2, 1))
    assert deleted == 1
    assert totals(engine)["(site)"][0] == 3  # rollups stay


def test_should_purge_every_statistic_of_a_deleted_site(engine: Engine) -> None:
    apply(
        engine,
        [
            view("/", 1, keep_raw=True, browser="Firefox"),
            view("/", 1, site="othersite001", browser="Firefox"),
        ],
    )
    with Session(engine) as session, session.begin():
        purge.purge_site(session, "site00000001")
    assert totals(engine) == {}
    with Session(engine) as session:
        crossed = select(DailyPathDimensionCount.site_id).distinct()
        assert set(session.scalars(crossed)) == {"othersite001"}
        years = select(PageYear.site_id).distinct()
        assert set(session.scalars(years)) == {"othersite001"}
    assert totals(engine, "othersite001") == {"(site)": (1, 1), "/": (1, 1)}


def test_should_do_nothing_for_an_empty_batch(engine: Engine) -> None:
    apply(engine, [])
    assert totals(engine) == {}


def test_should_store_the_title_of_a_new_page(engine: Engine) -> None:
    apply(engine, [view("/t", 1, title="First title"), view("/u", 1)])
    apply(engine, [view("/t", 2, title="Later title")])
    with Session(engine) as session:
        titles = dict(session.execute(select(Path.path, Path.title)).all())
    assert titles == {"/t": "First title", "/u": None}
