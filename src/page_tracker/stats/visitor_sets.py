"""The visitor sets: who was seen each UTC day and ever, of the site and of each page.

A visitor adds to a day's (or all time's) uniques only the first time its key enters the
set; rows are inserted if missing, so concurrent writers agree on who was first.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from page_tracker.db import insert_missing
from page_tracker.stats.ids import chunks
from page_tracker.stats.models import SITE, DailyVisitor, LifetimeVisitor
from page_tracker.stats.pageview import PageView


def _new_visitors(
    session: Session, model: type[DailyVisitor] | type[LifetimeVisitor], rows: list[dict[str, Any]]
) -> set[tuple[Any, ...]]:
    """Insert visitor-set rows; return the keys that were not there yet."""
    columns = (
        ("site_id", "day", "path_id", "visitor")
        if model is DailyVisitor
        else (
            "site_id",
            "path_id",
            "visitor",
        )
    )
    new: set[tuple[Any, ...]] = set()
    for chunk in chunks(rows):
        new.update(insert_missing(session, model.__table__, chunk, returning=columns))  # type: ignore[arg-type]
    return new


def add_visitors(
    session: Session, views: Sequence[PageView], path_ids: dict[tuple[str, str], int]
) -> tuple[set[tuple[Any, ...]], set[tuple[Any, ...]]]:
    """Add the views' visitors to the daily and all-time visitor sets (of the site and
    of each page); return the ``(site, day, path_id, visitor)`` and ``(site, path_id,
    visitor)`` keys that were new."""
    daily_rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    lifetime_rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    for view in views:
        path_id = path_ids[(view.site_id, view.path)]
        for pid in (SITE, path_id):
            key = (view.site_id, view.day, pid, view.visitor)
            daily_rows.setdefault(
                key, dict(zip(("site_id", "day", "path_id", "visitor"), key, strict=True))
            )
            all_time = (view.site_id, pid, view.lifetime_visitor)
            lifetime_rows.setdefault(
                all_time, dict(zip(("site_id", "path_id", "visitor"), all_time, strict=True))
            )
    return (
        _new_visitors(session, DailyVisitor, list(daily_rows.values())),
        _new_visitors(session, LifetimeVisitor, list(lifetime_rows.values())),
    )
