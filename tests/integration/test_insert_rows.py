"""db.insert_rows / add_rows_to_counters on each database: batches larger than one
statement (SQLite: multi-row VALUES in power-of-two parts) add up exactly."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session

from page_tracker.db import add_rows_to_counters, make_engine, power_of_two_parts
from page_tracker.stats import page_years
from page_tracker.stats.models import DailyCount, PageYear

SITE_ID = "site00000001"
DAY = date(2026, 3, 1)


@pytest.fixture
def engine(clean_database: str) -> Iterator[Engine]:
    engine = make_engine(clean_database)
    yield engine
    engine.dispose()


def add_daily(engine: Engine, rows: list[tuple[Any, ...]]) -> None:
    with Session(engine) as session, session.begin():
        add_rows_to_counters(
            session,
            DailyCount.__table__,  # type: ignore[arg-type]
            ("site_id", "day", "path_id"),
            rows,
            columns=("site_id", "day", "path_id", "pageviews", "visitors"),
            increment_columns=("pageviews", "visitors"),
        )


def daily(engine: Engine) -> dict[int, tuple[int, int]]:
    with Session(engine) as session:
        found = session.execute(
            select(DailyCount.path_id, DailyCount.pageviews, DailyCount.visitors).where(
                DailyCount.site_id == SITE_ID, DailyCount.day == DAY
            )
        )
        return {path_id: (views, visitors) for path_id, views, visitors in found}


@pytest.mark.parametrize("count", [1, 3, 256, 301])
def test_should_insert_then_add_every_row_of_a_batch(engine: Engine, count: int) -> None:
    add_daily(engine, [(SITE_ID, DAY, path_id, path_id + 1, 1) for path_id in range(count)])
    add_daily(engine, [(SITE_ID, DAY, path_id, 2, 0) for path_id in range(0, count, 2)])

    assert daily(engine) == {
        path_id: (path_id + 1 + (2 if path_id % 2 == 0 else 0), 1) for path_id in range(count)
    }


def test_should_or_the_month_bits_of_many_pages_in_one_call(engine: Engine) -> None:
    months = [date(2026, 1, 1), date(2026, 3, 1)]
    with Session(engine) as session, session.begin():
        page_years.mark(session, [(SITE_ID, months[0], p, 1, 1) for p in range(1, 300)])
    with Session(engine) as session, session.begin():
        page_years.mark(session, [(SITE_ID, months[1], p, 2, 0) for p in range(1, 300, 3)])

    with Session(engine) as session:
        found = {
            path_id: (bits, views, visitors)
            for path_id, bits, views, visitors in session.execute(
                select(PageYear.path_id, PageYear.months, PageYear.pageviews, PageYear.visitors)
            )
        }
    assert found == {p: (0b101, 3, 1) if p % 3 == 1 else (0b1, 1, 1) for p in range(1, 300)}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_should_write_sqlite_rows_in_a_few_multi_row_statements(engine: Engine) -> None:
    """The driver releases the GIL around each row of an ``executemany``; the embedded
    writer sends a batch's rows in a few statements instead."""
    statements: list[tuple[bool, int]] = []

    def seen(*args: Any) -> None:
        parameters, executemany = args[3], args[5]
        statements.append((executemany, len(parameters)))

    event.listen(engine, "before_cursor_execute", seen)
    add_daily(engine, [(SITE_ID, DAY, path_id, 1, 1) for path_id in range(301)])

    writes = [(many, size) for many, size in statements if size > 0]
    assert writes == [(False, 5 * size) for _start, size in power_of_two_parts(301)]
    assert len(writes) == 5  # 256 + 32 + 8 + 4 + 1 rows


def test_should_cut_counts_into_powers_of_two() -> None:
    assert power_of_two_parts(0) == []
    assert power_of_two_parts(1) == [(0, 1)]
    assert power_of_two_parts(7) == [(0, 4), (4, 2), (6, 1)]
    assert power_of_two_parts(600) == [(0, 256), (256, 256), (512, 64), (576, 16), (592, 8)]
    assert sum(size for _start, size in power_of_two_parts(1000)) == 1000
