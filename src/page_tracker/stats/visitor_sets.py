"""The visitor sets: who was seen each UTC day and ever, of the site and of each page.

A visitor adds to a day's (or all time's) uniques only the first time its key enters the
set; rows are inserted if missing, so concurrent writers agree on who was first.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from page_tracker.db import insert_missing_keys
from page_tracker.stats.ids import chunks
from page_tracker.stats.models import SITE, DailyVisitor, LifetimeVisitor
from page_tracker.stats.pageview import PageView

_DAILY = ("site_id", "day", "path_id", "visitor")
_LIFETIME = ("site_id", "path_id", "visitor")


def _new_visitors(
    session: Session,
    model: type[DailyVisitor] | type[LifetimeVisitor],
    rows: list[tuple[Any, ...]],
) -> set[tuple[Any, ...]]:
    """Insert visitor-set rows (key tuples); return the keys that were not there yet."""
    columns = _DAILY if model is DailyVisitor else _LIFETIME
    table: Any = model.__table__
    new: set[tuple[Any, ...]] = set()
    for chunk in chunks(rows):
        new.update(insert_missing_keys(session, table, columns, chunk))
    return new


def add_visitors(
    session: Session, views: Sequence[PageView], path_ids: dict[tuple[str, str], int]
) -> tuple[set[tuple[Any, ...]], set[tuple[Any, ...]]]:
    """Add the views' visitors to the daily and all-time visitor sets (of the site and
    of each page); return the ``(site, day, path_id, visitor)`` and ``(site, path_id,
    visitor)`` keys that were new."""
    daily: dict[tuple[Any, ...], None] = {}
    lifetime: dict[tuple[Any, ...], None] = {}
    for view in views:
        site, day = view.site_id, view.day
        path_id = path_ids[(site, view.path)]
        visitor, lifetime_visitor = view.visitor, view.lifetime_visitor
        daily[(site, day, SITE, visitor)] = None
        daily[(site, day, path_id, visitor)] = None
        lifetime[(site, SITE, lifetime_visitor)] = None
        lifetime[(site, path_id, lifetime_visitor)] = None
    return (
        _new_visitors(session, DailyVisitor, list(daily)),
        _new_visitors(session, LifetimeVisitor, list(lifetime)),
    )
