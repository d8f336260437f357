"""Fixtures of the import tests: an app on each database, a site, snapshots of the
rollups, and the CLI."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import select

from page_tracker.cli import cli
from page_tracker.db import get_session
from page_tracker.imports.models import Import
from page_tracker.stats.models import (
    DailyCount,
    DailyDimensionCount,
    DailyPathDimensionCount,
    Dimension,
    HourlyCount,
    MonthlyCount,
    Path,
    Total,
)
from tests.integration.sites import add_site


@pytest.fixture
def app(clean_database: str, make_app: Callable[..., Flask]) -> Flask:
    return make_app(DATABASE_URL=clean_database)


@pytest.fixture
def site(app: Flask) -> str:
    return add_site(app, "blog.example")


def run_cli(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(cli, list(args))


def snapshot(app: Flask, site_id: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every rollup row of a site, with path and dimension text instead of ids."""
    with app.app_context():
        session = get_session()
        paths = {0: "(site)"} | {
            p.id: p.path
            for p in session.execute(select(Path.id, Path.path).where(Path.site_id == site_id))
        }
        dims = {
            i: f"{kind}={value}"
            for i, kind, value in session.execute(
                select(Dimension.id, Dimension.kind, Dimension.value)
            )
        }
        found: dict[str, list[tuple[Any, ...]]] = {}
        found["hourly"] = sorted(
            (paths[p], h, pv, uv)
            for p, h, pv, uv in session.execute(
                select(
                    HourlyCount.path_id,
                    HourlyCount.hour,
                    HourlyCount.pageviews,
                    HourlyCount.visitors,
                ).where(HourlyCount.site_id == site_id)
            )
        )
        found["daily"] = sorted(
            (paths[p], d, pv, uv)
            for d, p, pv, uv in session.execute(
                select(
                    DailyCount.day, DailyCount.path_id, DailyCount.pageviews, DailyCount.visitors
                ).where(DailyCount.site_id == site_id)
            )
        )
        found["monthly"] = sorted(
            (paths[p], m, pv, uv)
            for m, p, pv, uv in session.execute(
                select(
                    MonthlyCount.month,
                    MonthlyCount.path_id,
                    MonthlyCount.pageviews,
                    MonthlyCount.visitors,
                ).where(MonthlyCount.site_id == site_id)
            )
        )
        found["dimensions"] = sorted(
            (dims[i], d, pv, uv)
            for d, i, pv, uv in session.execute(
                select(
                    DailyDimensionCount.day,
                    DailyDimensionCount.dimension_id,
                    DailyDimensionCount.pageviews,
                    DailyDimensionCount.visitors,
                ).where(DailyDimensionCount.site_id == site_id)
            )
        )
        found["page_dimensions"] = sorted(
            (paths[p], dims[i], d, pv, uv)
            for d, p, i, pv, uv in session.execute(
                select(
                    DailyPathDimensionCount.day,
                    DailyPathDimensionCount.path_id,
                    DailyPathDimensionCount.dimension_id,
                    DailyPathDimensionCount.pageviews,
                    DailyPathDimensionCount.visitors,
                ).where(DailyPathDimensionCount.site_id == site_id)
            )
        )
        found["totals"] = sorted(
            (paths[p], pv, uv)
            for p, pv, uv in session.execute(
                select(Total.path_id, Total.pageviews, Total.visitors).where(
                    Total.site_id == site_id
                )
            )
        )
        return found


def imports_of(app: Flask, site_id: str) -> list[Import]:
    with app.app_context():
        query = select(Import).where(Import.site_id == site_id).order_by(Import.id)
        return list(get_session().scalars(query))
