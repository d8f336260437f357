"""Counts that arrive already counted (imported history): :class:`Tally`, written by
:func:`add_tally` into the same rollups :func:`page_tracker.stats.rollup.apply` fills.

A tally carries page views and unique visitors as *numbers*: nothing is added to the
visitor sets, so no visitor hash is ever invented. :func:`add_tally` returns what it
added, keyed by the rows' ids (:class:`Applied`), so that the caller can keep a ledger
and later take exactly that back out with :func:`subtract`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, delete
from sqlalchemy.orm import Session

from page_tracker.db import add_rows_to_counters
from page_tracker.stats import page_years
from page_tracker.stats.ids import IdCache, resolve_ids
from page_tracker.stats.models import (
    MAX_PATH_LENGTH,
    MAX_VALUE_LENGTH,
    SITE,
    DailyCount,
    DailyDimensionCount,
    DailyPathDimensionCount,
    Dimension,
    HourlyCount,
    MonthlyCount,
    Path,
    Total,
    month_of,
)

# [page views, unique visitors]
Pair = list[int]


CHUNK = 5000  # rows per executemany (parameters are per row: no dialect limit)


def _pair() -> Pair:
    return [0, 0]


@dataclass
class Tally:
    """Page views and visitors of one site, keyed by path text and dimension value.

    ``path`` ``None`` is the whole site (hourly, daily and all-time rows). Hourly rows
    exist only for sources that know the time of each view; such a source fills the
    whole site's hours too (the stats API's hourly series reads them), with a visitor in
    the hour of their first view of the UTC day, as the live path counts them.
    ``path_dimensions`` (path, kind, value, day) only for sources that know a view's page
    and its dimensions together (GoatCounter's per-view export), with a visitor counted
    with the values of their first view of the page that day.
    """

    hourly: defaultdict[tuple[str | None, datetime], Pair] = field(
        default_factory=lambda: defaultdict(_pair)
    )
    daily: defaultdict[tuple[str | None, date], Pair] = field(
        default_factory=lambda: defaultdict(_pair)
    )
    dimensions: defaultdict[tuple[str, str, date], Pair] = field(
        default_factory=lambda: defaultdict(_pair)
    )
    path_dimensions: defaultdict[tuple[str, str, str, date], Pair] = field(
        default_factory=lambda: defaultdict(_pair)
    )
    totals: defaultdict[str | None, Pair] = field(default_factory=lambda: defaultdict(_pair))
    titles: dict[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(
            self.hourly or self.daily or self.dimensions or self.path_dimensions or self.totals
        )


@dataclass
class Applied:
    """What :func:`add_tally` added, keyed like the rollup rows (ids, not text)."""

    hourly: dict[tuple[int, datetime], Pair] = field(default_factory=dict)
    daily: dict[tuple[date, int], Pair] = field(default_factory=dict)
    dimensions: dict[tuple[date, int], Pair] = field(default_factory=dict)
    path_dimensions: dict[tuple[date, int, int], Pair] = field(default_factory=dict)
    totals: dict[int, Pair] = field(default_factory=dict)


def clip_path(path: str) -> str:
    return path[:MAX_PATH_LENGTH]


def _merge(target: dict[Any, Pair], key: Any, pair: Pair) -> None:
    found = target.setdefault(key, [0, 0])
    found[0] += pair[0]
    found[1] += pair[1]


def add_tally(session: Session, site_id: str, tally: Tally, cache: IdCache) -> Applied:
    """Add ``tally`` to the rollups of ``site_id`` in ``session``'s transaction (the caller
    commits) and return what was added, by row key."""
    paths = {p for p, _ in tally.hourly if p is not None}
    paths |= {p for p, _ in tally.daily if p is not None}
    paths |= {p for p in tally.totals if p is not None}
    paths |= {p for p, _, _, _ in tally.path_dimensions}
    path_ids = resolve_ids(
        session,
        ((site_id, clip_path(p)) for p in paths),
        Path,
        cache,
        titles={
            (site_id, clip_path(p)): t[:MAX_VALUE_LENGTH] for p, t in tally.titles.items() if t
        },
    )
    dimension_ids = resolve_ids(
        session,
        {(kind, value[:MAX_VALUE_LENGTH]) for kind, value, _ in tally.dimensions}
        | {(kind, value[:MAX_VALUE_LENGTH]) for _, kind, value, _ in tally.path_dimensions},
        Dimension,
        cache,
    )

    ids: dict[str | None, int] = {p: path_ids[(site_id, clip_path(p))] for p in paths}
    ids[None] = SITE
    pid = ids.__getitem__

    applied = Applied()
    # Keys map one to one unless two texts clip to the same path or value: then the
    # merging loop adds them up.
    hourly = {(ids[path], hour): pair for (path, hour), pair in tally.hourly.items()}
    daily = {(day, ids[path]): pair for (path, day), pair in tally.daily.items()}
    dimensions = {
        (day, dimension_ids[(kind, value[:MAX_VALUE_LENGTH])]): pair
        for (kind, value, day), pair in tally.dimensions.items()
    }
    totals = {pid(path): pair for path, pair in tally.totals.items()}
    applied.path_dimensions = _crossed(tally, pid, dimension_ids)
    if len(hourly) == len(tally.hourly):
        applied.hourly = hourly
    else:
        for (path, hour), pair in tally.hourly.items():
            _merge(applied.hourly, (pid(path), hour), pair)
    if len(daily) == len(tally.daily):
        applied.daily = daily
    else:
        for (maybe_path, day), pair in tally.daily.items():
            _merge(applied.daily, (day, pid(maybe_path)), pair)
    if len(dimensions) == len(tally.dimensions):
        applied.dimensions = dimensions
    else:
        for (kind, value, day), pair in tally.dimensions.items():
            key = (day, dimension_ids[(kind, value[:MAX_VALUE_LENGTH])])
            _merge(applied.dimensions, key, pair)
    if len(totals) == len(tally.totals):
        applied.totals = totals
    else:
        for maybe_path, pair in tally.totals.items():
            _merge(applied.totals, pid(maybe_path), pair)
    _write(session, site_id, applied, sign=1)
    return applied


def _crossed(
    tally: Tally, pid: Callable[[str], int], dimension_ids: dict[tuple[str, str], int]
) -> dict[tuple[date, int, int], Pair]:
    """``tally.path_dimensions`` keyed by (day, path id, dimension id)."""
    crossed: dict[tuple[date, int, int], Pair] = {}
    for (page, kind, value, day), pair in tally.path_dimensions.items():
        _merge(crossed, (day, pid(page), dimension_ids[(kind, value[:MAX_VALUE_LENGTH])]), pair)
    return crossed


def subtract(session: Session, site_id: str, applied: Applied) -> None:
    """Take ``applied`` back out of the rollups; rows left at zero are deleted (and the
    months their pages have rows in recomputed)."""
    _write(session, site_id, applied, sign=-1)
    for model in (
        HourlyCount,
        DailyCount,
        MonthlyCount,
        DailyDimensionCount,
        DailyPathDimensionCount,
        Total,
    ):
        session.execute(
            delete(model).where(
                and_(model.site_id == site_id, model.pageviews == 0, model.visitors == 0)
            )
        )
    page_years.rebuild(session, site_id, (path_id for _day, path_id in applied.daily))


def _rows(
    site_id: str, items: Iterable[tuple[Any, Pair]], sign: int, *, imported: bool = False
) -> list[tuple[Any, ...]]:
    """``(site_id, *key, pageviews, visitors[, imported_visitors])`` in key order."""
    # Keys are unique, so tuples compare by key alone: no key function (C comparisons).
    ordered = sorted(items)  # key order: concurrent writers lock rows alike (no deadlocks)
    if imported:  # the totals: one key, and the visitors once more as imported ones
        return [(site_id, key, sign * v, sign * u, sign * u) for key, (v, u) in ordered]
    return [(site_id, *key, sign * v, sign * u) for key, (v, u) in ordered]


def _monthly(daily: dict[tuple[date, int], Pair]) -> dict[tuple[date, int], Pair]:
    """The daily rows summed by month: ``stat_monthly`` gets exactly what ``stat_daily``
    gets (also when a ledger written before the monthly rollup existed is taken back)."""
    monthly: dict[tuple[date, int], Pair] = {}
    for (day, path_id), pair in daily.items():
        _merge(monthly, (month_of(day), path_id), pair)
    return monthly


def _write(session: Session, site_id: str, applied: Applied, sign: int) -> None:
    tables: tuple[tuple[type[Any], tuple[str, ...], dict[Any, Pair]], ...] = (
        (HourlyCount, ("site_id", "path_id", "hour"), applied.hourly),
        (DailyCount, ("site_id", "day", "path_id"), applied.daily),
        (MonthlyCount, ("site_id", "month", "path_id"), _monthly(applied.daily)),
        (DailyDimensionCount, ("site_id", "day", "dimension_id"), applied.dimensions),
        (
            DailyPathDimensionCount,
            ("site_id", "day", "path_id", "dimension_id"),
            applied.path_dimensions,
        ),
        (Total, ("site_id", "path_id"), applied.totals),
    )
    if sign > 0:  # a subtraction rebuilds them once its empty rows are gone
        monthly = _monthly(applied.daily).items()
        page_years.mark(session, ((site_id, month, p, v, u) for (month, p), (v, u) in monthly))
    for model, names, counts in tables:
        increments: tuple[str, ...] = ("pageviews", "visitors")
        if model is Total:  # imported uniques have no visitor set: keep them apart too
            increments = (*increments, "imported_visitors")
        rows = _rows(site_id, counts.items(), sign, imported=model is Total)
        for start in range(0, len(rows), CHUNK):
            add_rows_to_counters(
                session,
                model.__table__,
                names,
                rows[start : start + CHUNK],
                columns=(*names, *increments),
                increment_columns=increments,
            )
