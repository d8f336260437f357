"""Ids of paths and dimension values, created where missing, cached per process.

Paths (``stat_paths``) and dimension values (``stat_dimensions``) are written once and
never change, so their ids are kept in an :class:`IdCache`; ids of rows inserted in a
transaction enter the cache only when it commits (:func:`resolve_ids`). :data:`CHUNK`
bounds every statement of the rollup write path.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import event, select, tuple_
from sqlalchemy.orm import Session

from page_tracker.db import insert_missing
from page_tracker.stats.models import Dimension, Path

CHUNK = 400  # rows per statement: stays far below every dialect's parameter limit


class IdCache:
    """Ids of paths and dimension values already in the database (they never change, so
    a process may keep them). A deleted site's paths may stay cached until the cache is
    full and emptied: site ids are random and never given out again."""

    def __init__(self, limit: int = 100_000) -> None:
        self.limit = limit
        self.paths: dict[tuple[str, str], int] = {}
        self.dimensions: dict[tuple[str, str], int] = {}
        self.lock = threading.Lock()


def chunks(rows: Sequence[Any]) -> Iterator[Sequence[Any]]:
    """``rows`` in slices of :data:`CHUNK`, one statement each."""
    for start in range(0, len(rows), CHUNK):
        yield rows[start : start + CHUNK]


def _resolve(
    session: Session,
    wanted: Iterable[tuple[str, str]],
    model: type[Path] | type[Dimension],
    known: dict[tuple[str, str], int],
    cache: IdCache,
    *,
    titles: dict[tuple[str, str], str | None] | None = None,
) -> dict[tuple[str, str], int]:
    """Ids of ``(a, b)`` keys (site/path or kind/value), creating the missing rows
    (new paths with their page ``titles``)."""
    ids: dict[tuple[str, str], int] = {}
    missing: list[tuple[str, str]] = []
    with cache.lock:
        for key in set(wanted):
            if key in known:
                ids[key] = known[key]
            else:
                missing.append(key)
    if not missing:
        return ids
    first, second = ("site_id", "path") if model is Path else ("kind", "value")
    columns = (getattr(model, first), getattr(model, second))
    for chunk in chunks(sorted(missing)):
        rows: list[dict[str, Any]] = [{first: a, second: b} for a, b in chunk]
        if titles is not None:
            for row, key in zip(rows, chunk, strict=True):
                row["title"] = titles.get(key)
        insert_missing(session, model.__table__, rows)  # type: ignore[arg-type]
        found = session.execute(select(model.id, *columns).where(tuple_(*columns).in_(list(chunk))))
        for row_id, a, b in found:
            ids[(a, b)] = row_id
    _remember_after_commit(session, cache, known, {key: ids[key] for key in missing})
    return ids


def _remember_after_commit(
    session: Session, cache: IdCache, known: dict[tuple[str, str], int], new: dict[Any, int]
) -> None:
    # Ids of rows inserted in this transaction are cached only once it commits: a rolled
    # back (e.g. deadlocked and retried) transaction must not leave ids of rows that
    # were never created in the cache.
    pending: list[tuple[dict[Any, int], dict[Any, int]]] = session.info.setdefault(
        "pt_pending_ids", []
    )
    if not session.info.get("pt_pending_listeners"):
        session.info["pt_pending_listeners"] = True

        def committed(done: Session) -> None:
            with cache.lock:
                for target, values in done.info.get("pt_pending_ids", []):
                    if len(target) > cache.limit:
                        target.clear()
                    target.update(values)
            done.info["pt_pending_ids"] = []

        def rolled_back(done: Session, *_args: object) -> None:
            done.info["pt_pending_ids"] = []

        event.listen(session, "after_commit", committed)
        event.listen(session, "after_soft_rollback", rolled_back)
    pending.append((known, new))


def resolve_ids(
    session: Session,
    wanted: Iterable[tuple[str, str]],
    model: type[Path] | type[Dimension],
    cache: IdCache,
    *,
    titles: dict[tuple[str, str], str | None] | None = None,
) -> dict[tuple[str, str], int]:
    """Ids of ``(site_id, path)`` (``model`` :class:`Path`, new paths get their ``titles``)
    or ``(kind, value)`` keys (:class:`Dimension`), creating the missing rows."""
    known = cache.paths if model is Path else cache.dimensions
    return _resolve(session, wanted, model, known, cache, titles=titles)
