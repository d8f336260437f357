from datetime import UTC, date, datetime

from sqlalchemy import Date, bindparam, delete, inspect, select, text
from sqlalchemy.orm import Session

from page_tracker import migrate
from page_tracker.db import Base, make_engine
from page_tracker.enrich import Enrichment
from page_tracker.stats import rollup
from page_tracker.stats.models import DailyPathDimensionCount, Dimension, Hit, Path
from page_tracker.stats.pageview import PageView
from tests.integration.monthly import (
    assert_months_are_sums_of_days,
    stored_months,
    stored_years,
)


def test_should_create_every_model_table(database_url: str) -> None:
    engine = make_engine(database_url)
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert migrate.current_revision(engine) is not None
    engine.dispose()


def test_should_downgrade_and_upgrade_again(database_url: str) -> None:
    engine = make_engine(database_url)
    head = migrate.current_revision(engine)
    migrate.downgrade(engine, "base")
    assert "counters" not in inspect(engine).get_table_names()
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == head
    engine.dispose()


def test_should_add_and_remove_the_import_leases(database_url: str) -> None:
    engine = make_engine(database_url)
    head = migrate.current_revision(engine)
    lease = {"lease_owner", "heartbeat_at", "lease_until"}

    migrate.downgrade(engine, "0011_ranked_months")
    for table in ("imports", "import_jobs"):
        assert not lease & {c["name"] for c in inspect(engine).get_columns(table)}
    migrate.upgrade(engine)

    assert migrate.current_revision(engine) == head
    for table in ("imports", "import_jobs"):
        assert lease <= {c["name"] for c in inspect(engine).get_columns(table)}
    engine.dispose()


def test_should_backfill_the_monthly_rollup_from_the_daily_one(clean_database: str) -> None:
    # Given daily rows of two months and two paths, written before stat_monthly existed
    engine = make_engine(clean_database)
    head = migrate.current_revision(engine)
    migrate.downgrade(engine, "0007_rollup_search-1")
    assert "stat_monthly" not in inspect(engine).get_table_names()
    days = [
        ("site00000001", date(2026, 1, 1), 0, 5, 3),
        ("site00000001", date(2026, 1, 31), 0, 2, 2),
        ("site00000001", date(2026, 2, 1), 0, 1, 1),
        ("site00000001", date(2026, 1, 31), 7, 2, 1),
        ("site00000002", date(2026, 1, 15), 0, 4, 4),
    ]
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO stat_daily (site_id, day, path_id, pageviews, visitors) "
                "VALUES (:site, :day, :path, :pv, :uv)"
            ).bindparams(bindparam("day", type_=Date())),
            [dict(zip(("site", "day", "path", "pv", "uv"), row, strict=True)) for row in days],
        )
    # When migrated
    migrate.upgrade(engine)
    # Then every month holds the sums of its days
    assert migrate.current_revision(engine) == head
    with Session(engine) as session:
        assert stored_months(session, "site00000001") == {
            (0, date(2026, 1, 1)): (7, 5),
            (0, date(2026, 2, 1)): (1, 1),
            (7, date(2026, 1, 1)): (2, 1),
        }
        assert_months_are_sums_of_days(session, "site00000001")
        assert_months_are_sums_of_days(session, "site00000002")
    engine.dispose()


def _crossed(session: Session, site_id: str) -> dict[tuple[str, date, str, str], tuple[int, int]]:
    """The page x dimension rollup of a site: (path, day, kind, value) -> (views, visitors)."""
    rows = session.execute(
        select(
            Path.path,
            DailyPathDimensionCount.day,
            Dimension.kind,
            Dimension.value,
            DailyPathDimensionCount.pageviews,
            DailyPathDimensionCount.visitors,
        )
        .join(Path, Path.id == DailyPathDimensionCount.path_id)
        .join(Dimension, Dimension.id == DailyPathDimensionCount.dimension_id)
        .where(DailyPathDimensionCount.site_id == site_id)
    )
    return {(path, day, kind, value): (pv, uv) for path, day, kind, value, pv, uv in rows}


def test_should_backfill_the_page_dimension_rollup_from_whole_days_of_raw_hits(
    clean_database: str,
) -> None:
    # Given two days of raw hits (kept for retention), counted by the live rollup; the
    # first day lost a hit to the retention purge, and campaigns are not in raw hits
    engine = make_engine(clean_database)
    head = migrate.current_revision(engine)
    site = "site00000001"

    def view(at: str, path: str, visitor: int, **found: str) -> PageView:
        return PageView(
            site_id=site,
            path=path,
            hostname="example.com",
            timestamp=datetime.fromisoformat(at).replace(tzinfo=UTC),
            visitor=visitor.to_bytes(16, "big"),
            lifetime_visitor=(visitor + 100).to_bytes(16, "big"),
            keep_raw=True,
            enrichment=Enrichment(**found),  # type: ignore[arg-type]
        )

    firefox = {"browser": "Firefox", "os": "Linux", "device": "desktop", "country": "DE"}
    views = [
        view("2026-03-01T08:00", "/a", 1, **firefox),
        view("2026-03-01T09:00", "/b", 2, browser="Chrome", country="US"),
        view("2026-03-02T08:00", "/a", 1, **firefox, referrer_host="news.example"),
        view("2026-03-02T08:05", "/b", 1, **firefox),
        view("2026-03-02T08:10", "/a", 1, **firefox),  # same visitor: no new visitor
        view("2026-03-02T09:00", "/a", 3, browser="Chrome", referrer_host="news.example"),
        view("2026-03-02T10:00", "/a", 4, browser="Chrome", utm_campaign="spring"),
    ]
    with Session(engine) as session, session.begin():
        rollup.apply(session, views)
        session.execute(delete(Hit).where(Hit.timestamp < datetime(2026, 3, 1, 8, 30)))
    with Session(engine) as session:
        live = _crossed(session, site)
    assert live[("/a", date(2026, 3, 2), "referrer_host", "news.example")] == (2, 2)
    assert live[("/a", date(2026, 3, 2), "browser", "Firefox")] == (2, 1)
    # When the rollup is dropped and migrated again
    migrate.downgrade(engine, "0010_path_dimensions-1")
    assert "stat_daily_path_dimensions" not in inspect(engine).get_table_names()
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == head
    # Then the whole day is back as the live rollup counted it (but its campaign), and
    # the day cut by the purge is left out rather than half counted
    with Session(engine) as session:
        backfilled = _crossed(session, site)
    assert backfilled == {
        key: counts
        for key, counts in live.items()
        if key[1] == date(2026, 3, 2) and not key[2].startswith("utm_")
    }
    assert ("/a", date(2026, 3, 2), "utm_campaign", "spring") in live
    engine.dispose()


def test_should_backfill_the_years_sums_of_each_page_from_its_months(
    clean_database: str,
) -> None:
    # Given views of two pages of two sites across two years, counted by the live rollup
    engine = make_engine(clean_database)
    head = migrate.current_revision(engine)

    def view(site: str, at: str, path: str, visitor: int) -> PageView:
        return PageView(
            site_id=site,
            path=path,
            hostname="example.com",
            timestamp=datetime.fromisoformat(at).replace(tzinfo=UTC),
            visitor=visitor.to_bytes(16, "big"),
            lifetime_visitor=(visitor + 100).to_bytes(16, "big"),
            enrichment=Enrichment(),
        )

    views = [
        view("site00000001", "2025-12-31T23:00", "/a", 1),
        view("site00000001", "2026-01-01T00:00", "/a", 1),
        view("site00000001", "2026-01-02T00:00", "/a", 1),
        view("site00000001", "2026-03-02T00:00", "/a", 2),
        view("site00000001", "2026-03-02T00:00", "/b", 2),
        view("site00000002", "2026-03-02T00:00", "/a", 3),
    ]
    with Session(engine) as session, session.begin():
        rollup.apply(session, views)
    # When the sums are dropped and migrated again
    migrate.downgrade(engine, "0014_access_epoch")
    columns = {c["name"] for c in inspect(engine).get_columns("stat_page_years")}
    assert "pageviews" not in columns
    migrate.upgrade(engine)
    # Then each page's year holds its months' bits and sums, as the live rollup wrote them
    assert migrate.current_revision(engine) == head
    with Session(engine) as session:
        for site in ("site00000001", "site00000002"):
            assert_months_are_sums_of_days(session, site)
        years = stored_years(session, "site00000001")
    assert sorted(years.values()) == [(4, 1, 1), (5, 3, 3), (1 << 11, 1, 1)]
    engine.dispose()
