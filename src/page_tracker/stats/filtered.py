"""Breakdowns narrowed by a filter: the dimension values of one page, and the pages of
one dimension value, over whole UTC days.

Read from ``stat_daily_path_dimensions`` (page x dimension value per UTC day, written
by the one rollup path) where a page is involved, and from ``stat_daily_dimensions``
for one value of the site. There is no dimension x dimension rollup: a breakdown of one
dimension kind cannot follow a filter on another (:mod:`page_tracker.stats.filters`
refuses it). Visitors are daily unique visitors summed over the days, as everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from page_tracker.stats.models import (
    DailyDimensionCount,
    DailyPathDimensionCount,
    Dimension,
    Path,
)
from page_tracker.stats.pages import RankedPage

# The number of groups, on every row of a grouped query (one scan gives page and total).
_TOTAL = func.count().over().label("total")


def _total(session: Session, grouped: Any, found: Sequence[Any], offset: int) -> int:
    if found:
        return int(found[0][-1])
    if offset == 0:
        return 0
    return int(session.scalar(select(func.count()).select_from(grouped.subquery())) or 0)


def dimension_values(
    session: Session,
    site_id: str,
    start: date,
    end: date,
    kind: str,
    *,
    path_id: int | None,
    value: str | None,
    limit: int,
    offset: int,
) -> tuple[int, list[tuple[str, int, int]]]:
    """How many values of ``kind`` had views on the UTC days ``start`` to ``end``, and
    ``limit`` of them from ``offset`` as (value, page views, visitors), by page views
    then value: of page ``path_id`` only (``None``: the whole site), and only ``value``
    when given."""
    table: Any = DailyDimensionCount if path_id is None else DailyPathDimensionCount
    views = func.sum(table.pageviews)
    grouped = (
        select(Dimension.value, views.label("pv"), func.sum(table.visitors), _TOTAL)
        .join(Dimension, Dimension.id == table.dimension_id)
        .where(table.site_id == site_id, Dimension.kind == kind)
        .where(table.day >= start, table.day <= end)
        .group_by(Dimension.value)
    )
    if path_id is not None:
        grouped = grouped.where(table.path_id == path_id)
    if value is not None:
        grouped = grouped.where(Dimension.value == value)
    found = session.execute(
        grouped.order_by(views.desc(), Dimension.value).limit(limit).offset(offset)
    ).all()
    rows = [(text, int(pv), int(uv)) for text, pv, uv, _ in found]
    return _total(session, grouped, found, offset), rows


def pages_with(
    session: Session,
    site_id: str,
    start: date,
    end: date,
    dimension_id: int,
    *,
    only: ColumnElement[bool] | None,
    limit: int,
    offset: int,
) -> tuple[int, list[RankedPage]]:
    """How many pages had views with the dimension value ``dimension_id`` on the UTC
    days ``start`` to ``end``, and ``limit`` of them from ``offset`` by those views,
    then path; ``only`` (a condition on :class:`Path`) keeps just the pages it holds for."""
    table = DailyPathDimensionCount
    sums = (
        select(
            table.path_id,
            func.sum(table.pageviews).label("pv"),
            func.sum(table.visitors).label("uv"),
        )
        .where(table.site_id == site_id, table.dimension_id == dimension_id)
        .where(table.day >= start, table.day <= end)
        .group_by(table.path_id)
        .subquery()
    )
    grouped = select(Path.path, Path.title, sums.c.pv, sums.c.uv, _TOTAL).join(
        Path, Path.id == sums.c.path_id
    )
    if only is not None:
        grouped = grouped.where(only)
    found = session.execute(
        grouped.order_by(sums.c.pv.desc(), Path.path).limit(limit).offset(offset)
    ).all()
    pages = [RankedPage(path, title, int(pv), int(uv)) for path, title, pv, uv, _ in found]
    return _total(session, grouped, found, offset), pages
