"""The ledger of an import: what it added to the rollups, so it can be taken back out."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from page_tracker.db import add_to_counters
from page_tracker.imports.models import (
    ImportedDaily,
    ImportedDimension,
    ImportedHourly,
    ImportedTotal,
)
from page_tracker.stats.tally import Applied

CHUNK = 5000  # rows per executemany (parameters are per row: no dialect limit)
_KEYS: tuple[tuple[type[Any], tuple[str, ...], str], ...] = (
    (ImportedHourly, ("path_id", "hour"), "hourly"),
    (ImportedDaily, ("day", "path_id"), "daily"),
    (ImportedDimension, ("day", "dimension_id"), "dimensions"),
    (ImportedTotal, ("path_id",), "totals"),
)


def _first(item: tuple[Any, Any]) -> Any:
    return item[0]


def record(session: Session, import_id: int, applied: Applied) -> None:
    """Add ``applied`` to the import's ledger (in the caller's transaction)."""
    for model, names, attribute in _KEYS:
        counts: dict[Any, list[int]] = getattr(applied, attribute)
        rows = []
        for key, (views, visitors) in sorted(counts.items(), key=_first):
            keys = key if isinstance(key, tuple) else (key,)
            row: dict[str, Any] = {"import_id": import_id, **dict(zip(names, keys, strict=True))}
            row.update(pageviews=views, visitors=visitors)
            rows.append(row)
        for start in range(0, len(rows), CHUNK):
            add_to_counters(
                session,
                model.__table__,
                ("import_id", *names),
                rows[start : start + CHUNK],
                ("pageviews", "visitors"),
            )


def load(session: Session, import_id: int) -> Applied:
    """Everything the import added."""
    applied = Applied()
    for model, names, attribute in _KEYS:
        target: dict[Any, list[int]] = getattr(applied, attribute)
        columns = [getattr(model, name) for name in names]
        query = select(*columns, model.pageviews, model.visitors).where(
            model.import_id == import_id
        )
        for *keys, views, visitors in session.execute(query):
            key = tuple(keys) if len(keys) > 1 else keys[0]
            target[key] = [int(views), int(visitors)]
    return applied


def forget(session: Session, import_id: int) -> None:
    """Delete the import's ledger rows."""
    for model, _names, _attribute in _KEYS:
        session.execute(delete(model).where(model.import_id == import_id))
