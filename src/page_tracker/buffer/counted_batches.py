"""Counting batches of page views exactly once, by their batch id.

A batch id is recorded in ``tracking_flushed_batches`` in the same transaction as the
batch's rollups, so a batch written again (a flush retried after a crash, a Redis
write whose reply was lost and that the sink then wrote to the database) is skipped.
Redis mode's flush and its sink's database fallback both write through here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import cast

from sqlalchemy import Table
from sqlalchemy.orm import Session, sessionmaker

from page_tracker.buffer.models import FlushedBatch
from page_tracker.db import insert_missing, retry_transient
from page_tracker.stats import rollup
from page_tracker.stats.counters import TotalKey, read_totals
from page_tracker.stats.ids import IdCache
from page_tracker.stats.pageview import PageView


def write_batches(
    session_factory: sessionmaker[Session],
    batches: Sequence[tuple[str, Sequence[PageView]]],
    ids: IdCache | None = None,
    attempts: int = 5,
    totals: dict[TotalKey, tuple[int, int]] | None = None,
) -> set[str]:
    """Count the batches not counted yet, in one transaction; return their ids.

    ``batches`` are ``(batch_id, views)``; a batch id seen before (in this call or in
    ``tracking_flushed_batches``) is skipped. Deadlocks are retried (the transaction
    rolled back entirely, so a retry counts nothing twice). ``totals``, when given, is
    filled in the same transaction with the all-time page views of every page (and
    site) of ``batches``, counted ones included.
    """
    unique: dict[str, Sequence[PageView]] = {}
    for batch_id, views in batches:
        unique.setdefault(batch_id, views)
    if not unique:
        return set()
    now = datetime.now(UTC).replace(tzinfo=None)
    table = cast(Table, FlushedBatch.__table__)
    rows = [{"batch_id": batch_id, "flushed_at": now} for batch_id in sorted(unique)]

    def transaction() -> set[str]:
        with session_factory() as session, session.begin():
            # First, so a concurrent flusher of the same batch waits on this row lock and
            # then finds the batch counted.
            new = {row[0] for row in insert_missing(session, table, rows, ("batch_id",))}
            views = [view for batch_id in sorted(new) for view in unique[batch_id]]
            rollup.apply(session, views, ids)
            if totals is not None:
                pages = {(v.site_id, v.path) for batch in unique.values() for v in batch}
                totals.update(read_totals(session, pages))
        return new

    return retry_transient(transaction, attempts=attempts, jitter=0.02)
