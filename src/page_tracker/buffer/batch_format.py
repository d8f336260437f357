"""The wire format of a batch of page views in Redis (one stream entry per batch).

Compact JSON: the field names once, then one array of values per view (bytes as hex,
the timestamp as integer microseconds since the epoch). Decoding maps by name, so a
batch written by an older or newer release still decodes (unknown fields are dropped,
missing ones take their defaults).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from page_tracker.stats.pageview import PageView

FORMAT = "1"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_BYTES = frozenset({"visitor", "lifetime_visitor"})


@cache
def _names() -> tuple[str, ...]:
    return tuple(field.name for field in fields(PageView))


def _micros(moment: datetime) -> int:
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def encode_views(views: Sequence[PageView]) -> bytes:
    """Serialise ``views`` (see :func:`decode_views`)."""
    names = _names()
    rows: list[list[Any]] = []
    for view in views:
        row: list[Any] = []
        for name in names:
            value = getattr(view, name)
            if name in _BYTES:
                value = value.hex()
            elif name == "timestamp":
                value = _micros(value)
            row.append(value)
        rows.append(row)
    return json.dumps({"f": names, "r": rows}, separators=(",", ":")).encode()


def decode_views(payload: bytes | str) -> list[PageView]:
    """The views of a payload made by :func:`encode_views` (of any release).

    Raises ``ValueError`` for a payload that is not such a batch.
    """
    data = json.loads(payload)
    if not isinstance(data, dict) or not isinstance(data.get("f"), list):
        raise ValueError("not a page-view batch")
    known = set(_names())
    names: list[str] = data["f"]
    views: list[PageView] = []
    for row in data["r"]:
        values = {name: value for name, value in zip(names, row, strict=True) if name in known}
        for name in _BYTES:
            values[name] = bytes.fromhex(values[name])
        values["timestamp"] = _EPOCH + timedelta(microseconds=values["timestamp"])
        views.append(PageView(**values))
    return views
