"""The ledger of an import: what each of its chunks added to the rollups, so that the
import can be taken back out exactly.

One ``import_chunks`` row per committed chunk, written in the chunk's transaction: the
chunk's :class:`~page_tracker.stats.tally.Applied` counts by rollup row key (ids, days,
hours), as zlib-compressed JSON. One row per chunk rather than one per rollup row
halves the rows an import writes.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from page_tracker.imports.models import ImportChunk
from page_tracker.stats.tally import Applied, Pair


def _texts(moments: Iterable[date]) -> dict[Any, str]:
    # Once per distinct hour or day: they repeat over a chunk's paths.
    return {moment: moment.isoformat() for moment in set(moments)}


def _encode(applied: Applied) -> bytes:
    hours = _texts(hour for _pid, hour in applied.hourly)
    days = _texts([day for day, _pid in applied.daily] + [day for day, _ in applied.dimensions])
    data = {
        "hourly": [[pid, hours[hour], v, u] for (pid, hour), (v, u) in applied.hourly.items()],
        "daily": [[days[day], pid, v, u] for (day, pid), (v, u) in applied.daily.items()],
        "dimensions": [[days[day], did, v, u] for (day, did), (v, u) in applied.dimensions.items()],
        "totals": [[pid, *pair] for pid, pair in applied.totals.items()],
        "path_dimensions": [
            [day.isoformat(), pid, did, *pair]
            for (day, pid, did), pair in applied.path_dimensions.items()
        ],
    }
    return zlib.compress(json.dumps(data, separators=(",", ":")).encode(), 6)


def _add(target: dict[Any, Pair], key: Any, views: int, visitors: int) -> None:
    found = target.get(key)
    if found is None:
        target[key] = [views, visitors]
    else:
        found[0] += views
        found[1] += visitors


def _decode(blob: bytes, into: Applied) -> None:
    data = json.loads(zlib.decompress(blob))
    for pid, hour, views, visitors in data["hourly"]:
        _add(into.hourly, (pid, datetime.fromisoformat(hour)), views, visitors)
    for day, pid, views, visitors in data["daily"]:
        _add(into.daily, (date.fromisoformat(day), pid), views, visitors)
    for day, did, views, visitors in data["dimensions"]:
        _add(into.dimensions, (date.fromisoformat(day), did), views, visitors)
    for pid, views, visitors in data["totals"]:
        _add(into.totals, pid, views, visitors)
    # Ledgers written before the page x dimension rollup have none.
    for day, pid, did, views, visitors in data.get("path_dimensions", []):
        _add(into.path_dimensions, (date.fromisoformat(day), pid, did), views, visitors)


def record(session: Session, import_id: int, chunk: int, applied: Applied) -> None:
    """Keep what chunk number ``chunk`` (unique per import) added, in the caller's
    transaction."""
    session.add(ImportChunk(import_id=import_id, chunk=chunk, counts=_encode(applied)))


def load(session: Session, import_id: int) -> Applied:
    """Everything the import added (the sum of its chunks)."""
    applied = Applied()
    query = select(ImportChunk.counts).where(ImportChunk.import_id == import_id)
    for blob in session.scalars(query.execution_options(yield_per=16)):
        _decode(blob, applied)
    return applied


def forget(session: Session, import_id: int) -> None:
    """Delete the import's ledger."""
    session.execute(delete(ImportChunk).where(ImportChunk.import_id == import_id))
