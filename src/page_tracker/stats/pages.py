"""The pages of a site ranked by page views over a span of UTC time, read from the
coarsest rollups that cover it exactly (:mod:`page_tracker.stats.cover`).

The database only sums, path by path (MariaDB straight off ``stat_monthly``'s primary
key, with no temporary table); ranking and counting the paths happen here, and only the
paths of the asked page (and those tied with its last) are looked up by name. A window
``count(*) OVER ()`` and a join of every path before the sort cost more than the sums
themselves on both PostgreSQL and MariaDB (``EXPLAIN ANALYZE``, bench/README.md).
"""

from __future__ import annotations

import heapq
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select, true, union_all
from sqlalchemy.orm import Session

from page_tracker.stats.cover import cover
from page_tracker.stats.models import SITE, DailyCount, HourlyCount, MonthlyCount, Path

LOOKUP_CHUNK = 500  # path ids per name lookup (far below every dialect's limit)


@dataclass(frozen=True, slots=True)
class RankedPage:
    path: str
    title: str | None
    pageviews: int
    visitors: int


def _pieces(site_id: str, low: datetime, high: datetime) -> list[tuple[Any, ColumnElement[bool]]]:
    """Each rollup a piece of ``[low, high)`` is in, with the condition selecting its rows."""
    pieces = cover(low, high)
    found: list[tuple[Any, ColumnElement[bool]]] = []
    tables: tuple[tuple[Any, Any, list[Any], bool], ...] = (
        (MonthlyCount, MonthlyCount.month, pieces.months, True),
        (DailyCount, DailyCount.day, pieces.days, True),
        (HourlyCount, HourlyCount.hour, pieces.hours, False),
    )
    for table, moment, spans, inclusive in tables:
        if spans:
            within = or_(
                *(
                    (moment >= first) & ((moment <= last) if inclusive else (moment < last))
                    for first, last in spans
                )
            )
            found.append((table, (table.site_id == site_id) & (table.path_id != SITE) & within))
    return found


def _sums(session: Session, site_id: str, low: datetime, high: datetime) -> Sequence[Any]:
    """``(path_id, page views, visitors)`` of every path with views in ``[low, high)``."""
    pieces = _pieces(site_id, low, high)
    if not pieces:
        return []
    if len(pieces) == 1:
        ((model, where),) = pieces
        rows: Any = model.__table__
    else:
        rows = union_all(
            *(select(t.path_id, t.pageviews, t.visitors).where(w) for t, w in pieces)
        ).subquery()
        where = true()
    query = (
        select(rows.c.path_id, func.sum(rows.c.pageviews), func.sum(rows.c.visitors))
        .where(where)
        .group_by(rows.c.path_id)
    )
    return session.execute(query).all()


def _names(session: Session, ids: Sequence[int]) -> dict[int, tuple[str, str | None]]:
    names: dict[int, tuple[str, str | None]] = {}
    for start in range(0, len(ids), LOOKUP_CHUNK):
        chunk = ids[start : start + LOOKUP_CHUNK]
        for path_id, path, title in session.execute(
            select(Path.id, Path.path, Path.title).where(Path.id.in_(chunk))
        ):
            names[path_id] = (path, title)
    return names


def _first_by_path(session: Session, site_id: str, ids: Sequence[int], count: int) -> list[int]:
    """The ``count`` of ``ids`` whose paths sort first (ties at a page's end are broken by
    path; there may be thousands of paths with one view)."""
    if len(ids) <= LOOKUP_CHUNK:
        query = select(Path.id).where(Path.id.in_(ids)).order_by(Path.path).limit(count)
        return list(session.scalars(query))
    wanted, found = set(ids), []
    for path_id in session.scalars(
        select(Path.id).where(Path.site_id == site_id).order_by(Path.path)
    ):
        if path_id in wanted:
            found.append(path_id)
            if len(found) == count:
                break
    return found


def ranked_pages(
    session: Session,
    site_id: str,
    low: datetime,
    high: datetime,
    *,
    limit: int,
    offset: int,
    only: Collection[int] | None = None,
) -> tuple[int, list[RankedPage]]:
    """How many paths had views in the naive UTC span ``[low, high)`` (hours starting in
    it), and ``limit`` of them from ``offset`` by page views, then path; ``only`` keeps
    just those path ids (a search's matches)."""
    sums = [(int(p), int(pv), int(uv)) for p, pv, uv in _sums(session, site_id, low, high)]
    if only is not None:
        wanted = set(only)
        sums = [row for row in sums if row[0] in wanted]
    end = offset + limit
    if not sums or offset >= len(sums) or limit <= 0:
        return len(sums), []
    # The page's last place decides which paths need their names: those above it, and
    # as many as needed of those tied with it, by path.
    cutoff = heapq.nlargest(end, (row[1] for row in sums))[-1]
    above = [row for row in sums if row[1] > cutoff]
    tied = {row[0]: row for row in sums if row[1] == cutoff}
    first_tied = _first_by_path(session, site_id, list(tied), end - len(above))
    chosen = [*above, *(tied[path_id] for path_id in first_tied)]
    names = _names(session, [row[0] for row in chosen])
    ranked = sorted(
        (RankedPage(*names[p], pv, uv) for p, pv, uv in above if p in names),
        key=lambda page: (-page.pageviews, page.path),
    )
    ranked += [RankedPage(*names[p], pv, uv) for p, pv, uv in chosen[len(above) :] if p in names]
    return len(sums), ranked[offset:end]
