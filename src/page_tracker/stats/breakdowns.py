"""The tables of a site's statistics over a range: its pages, referrers, browsers,
systems, devices, countries, campaigns and entry pages, by page views.

Breakdowns follow the filter: a page filter narrows every table to that page's views, a
dimension filter the pages table (and the table of its own kind to its value); a
dimension table cannot follow a filter on another dimension and is refused
(:func:`~page_tracker.stats.filters.blocking`, 400), as are the entry pages under a page
filter and the pages under an entry-page filter (entry pages are not crossed with
pages). Breakdowns of dimensions, and of pages under a dimension filter, count whole UTC
days from ``start`` to ``end`` whatever the zone (``basis`` says so); the pages table
without one is exact in every zone (:mod:`page_tracker.stats.pages`).

Entry pages (breakdown ``entry_pages``) are the paths of the visitors' first views of the
site each UTC day: their page views are entrances, as many as their visitors
(:func:`page_tracker.stats.rollup.apply`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from page_tracker.errors import Unprocessable, ValidationFailed
from page_tracker.stats import filtered, queries
from page_tracker.stats.filters import NOT_PER_PAGE, OTHER_DIMENSION, Filter, blocking
from page_tracker.stats.models import DailyDimensionCount, Dimension, Path
from page_tracker.stats.pages import ranked_pages
from page_tracker.stats.ranges import Range
from page_tracker.stats.search import page_condition

Basis = Literal["local-hours", "utc-days"]
# Breakdown name -> the dimension kind it lists (``pages`` lists paths).
BREAKDOWNS: Final[dict[str, str | None]] = {
    "pages": None,
    "referrers": "referrer_host",
    "browsers": "browser",
    "os": "os",
    "devices": "device",
    "countries": "country",
    "campaigns": "utm_campaign",
    "entry_pages": "entry_page",
}
CAMPAIGN_FIELDS: Final = ("source", "medium", "campaign", "term", "content")


@dataclass(frozen=True, slots=True)
class Item:
    value: str
    pageviews: int
    visitors: int  # daily unique visitors summed over the days
    title: str | None = None


@dataclass(frozen=True, slots=True)
class Breakdown:
    kind: str
    basis: Basis
    total: int  # how many values there are (pages, browsers ...) in all
    items: list[Item]


def dimension_kind(name: str, campaign_field: str = "campaign") -> str | None:
    """The dimension kind a breakdown lists (``None``: pages)."""
    if name == "campaigns":
        if campaign_field not in CAMPAIGN_FIELDS:
            raise Unprocessable(f"utm is one of {', '.join(CAMPAIGN_FIELDS)}")
        return f"utm_{campaign_field}"
    return BREAKDOWNS[name]


def breakdown(
    session: Session,
    site_id: str,
    rng: Range,
    name: str,
    *,
    limit: int = 10,
    offset: int = 0,
    campaign_field: str = "campaign",
    search: str | None = None,
    where: Filter | None = None,
) -> Breakdown:
    """The values of a breakdown by page views (then name), ``limit`` from ``offset``;
    ``search`` keeps the pages whose path or title has its words (pages only); ``where``
    narrows it to the filtered views (:func:`_filtered`)."""
    kind = dimension_kind(name, campaign_field)
    if where is not None and (where.page is not None or where.kind is not None):
        return _filtered(
            session, site_id, rng, name, kind=kind, where=where, limit=limit, offset=offset,
            search=search,
        )  # fmt: skip
    if kind is None:
        return _pages(session, site_id, rng, limit=limit, offset=offset, search=search)
    if search is not None:
        raise Unprocessable("search works on the pages breakdown only")
    views = func.sum(DailyDimensionCount.pageviews)
    grouped = (
        select(
            Dimension.value,
            views.label("pv"),
            func.sum(DailyDimensionCount.visitors),
            _TOTAL,
        )
        .join(Dimension, Dimension.id == DailyDimensionCount.dimension_id)
        .where(DailyDimensionCount.site_id == site_id, Dimension.kind == kind)
        .where(DailyDimensionCount.day >= rng.start, DailyDimensionCount.day <= rng.end)
        .group_by(Dimension.value)
    )
    rows = session.execute(
        grouped.order_by(views.desc(), Dimension.value).limit(limit).offset(offset)
    ).all()
    items = [Item(value, int(pv), int(uv)) for value, pv, uv, _ in rows]
    return Breakdown(name, "utc-days", _total(session, grouped, rows, offset), items)


# The number of groups, on every row of a grouped query (one scan gives page and total).
_TOTAL = func.count().over().label("total")


def _total(session: Session, grouped: Any, rows: Sequence[Any], offset: int) -> int:
    """How many values there are: from the window column, or, when the page is past the
    end (no row to carry it), from a count."""
    if rows:
        return int(rows[0][-1])
    if offset == 0:
        return 0
    return int(session.scalar(select(func.count()).select_from(grouped.subquery())) or 0)


def _filtered(
    session: Session,
    site_id: str,
    rng: Range,
    name: str,
    *,
    kind: str | None,
    where: Filter,
    limit: int,
    offset: int,
    search: str | None,
) -> Breakdown:
    """A breakdown of the filtered views only; :class:`ValidationFailed` when it cannot
    follow the filter (:func:`blocking`)."""
    blocked = blocking(kind, where)
    if blocked is not None:
        raise ValidationFailed(
            (NOT_PER_PAGE if blocked == "page" else OTHER_DIMENSION).format(
                table=name, name=blocked
            ),
            details={"breakdown": name, "filter": blocked},
            error_code=40011,
        )
    if kind is not None and search is not None:
        raise Unprocessable("search works on the pages breakdown only")
    only = None if search is None else page_condition(session, search)
    if where.page is not None:
        path_id = queries.path_id(session, site_id, where.page)
        if path_id is None:
            return Breakdown(name, "utc-days" if kind else _pages_basis(rng), 0, [])
        if kind is None and where.kind is None:  # the pages table of a page: its row
            same = Path.path == where.page
            return _pages(
                session, site_id, rng, limit=limit, offset=offset,
                only=same if only is None else same & only,
            )  # fmt: skip
        if kind is None:
            only = Path.id == path_id if only is None else (Path.id == path_id) & only
    else:
        path_id = None
    if kind is not None:
        total, values = filtered.dimension_values(
            session, site_id, rng.start, rng.end, kind, path_id=path_id,
            value=where.value if where.kind == kind else None, limit=limit, offset=offset,
        )  # fmt: skip
        return Breakdown(name, "utc-days", total, [Item(*row) for row in values])
    dimension = queries.dimension_id(session, where.kind or "", where.value or "")
    if dimension is None:
        return Breakdown(name, "utc-days", 0, [])
    total, ranked = filtered.pages_with(
        session, site_id, rng.start, rng.end, dimension, only=only, limit=limit, offset=offset
    )
    items = [Item(p.path, p.pageviews, p.visitors, p.title) for p in ranked]
    return Breakdown(name, "utc-days", total, items)


def _pages_basis(rng: Range) -> Basis:
    return "utc-days" if rng.utc_aligned else "local-hours"


def _pages(
    session: Session,
    site_id: str,
    rng: Range,
    *,
    limit: int,
    offset: int,
    search: str | None = None,
    only: ColumnElement[bool] | None = None,
) -> Breakdown:
    # Whole UTC months from stat_monthly, the days and hours at the edges from the finer
    # rollups: exact in every zone, since each rollup is the sum of the finer one.
    basis = _pages_basis(rng)
    low, high = rng.utc_bounds()
    if search is not None:
        found = page_condition(session, search)
        only = found if only is None else only & found
    total, ranked = ranked_pages(session, site_id, low, high, limit=limit, offset=offset, only=only)
    items = [Item(p.path, p.pageviews, p.visitors, p.title) for p in ranked]
    return Breakdown("pages", basis, total, items)
