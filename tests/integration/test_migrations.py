from datetime import date

from sqlalchemy import Date, bindparam, inspect, text
from sqlalchemy.orm import Session

from page_tracker import migrate
from page_tracker.db import Base, make_engine
from tests.integration.monthly import assert_months_are_sums_of_days, stored_months


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

    migrate.downgrade(engine, "0009_share_links")
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
