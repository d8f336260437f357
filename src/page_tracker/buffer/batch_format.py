"""The format of a batch of page views in Redis (one stream entry per batch).

Compact JSON: the field names once, then one array of values per view (bytes as hex,
the timestamp as integer microseconds since the epoch)::

    {
        "f": ["site_id", "path", ..., "keep_raw", "browser", ..., "screen_class"],
        "r": [["abcdefabcdef", "/blog/", ..., true, "Chrome", ..., "laptop"], ...],
    }

A view's own fields come first, then its enrichment's, flat (``bot_reason`` is left out:
a counted view is never a bot's). Decoding maps by name, so a batch written by an older
or newer release still decodes (unknown fields are dropped, missing ones take their
defaults). :data:`FORMAT` names this shape; a release that changes it keeps decoding
the old one, since a stream may hold batches of the release before it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from operator import attrgetter
from typing import Any

from page_tracker.enrich import Enrichment
from page_tracker.stats.pageview import PageView

FORMAT = "1"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_VIEW = tuple(field.name for field in fields(PageView) if field.name != "enrichment")
_ENRICHMENT = tuple(field.name for field in fields(Enrichment) if field.name != "bot_reason")
NAMES = _VIEW + _ENRICHMENT
_view_values = attrgetter(*_VIEW)
_enrichment_values = attrgetter(*_ENRICHMENT)
_TIMESTAMP, _VISITOR, _LIFETIME = (
    _VIEW.index(n) for n in ("timestamp", "visitor", "lifetime_visitor")
)


def _micros(moment: datetime) -> int:
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def encode_views(views: Sequence[PageView]) -> bytes:
    """Serialise ``views`` (see :func:`decode_views`)."""
    rows: list[list[Any]] = []
    for view in views:
        row = [*_view_values(view), *_enrichment_values(view.enrichment)]
        row[_TIMESTAMP] = _micros(view.timestamp)
        row[_VISITOR] = view.visitor.hex()
        row[_LIFETIME] = view.lifetime_visitor.hex()
        rows.append(row)
    return json.dumps({"f": NAMES, "r": rows}, separators=(",", ":")).encode()


def decode_views(payload: bytes | str) -> list[PageView]:
    """The views of a payload made by :func:`encode_views` (of any release).

    Raises ``ValueError`` for a payload that is not such a batch.
    """
    data = json.loads(payload)
    if not isinstance(data, dict) or not isinstance(data.get("f"), list):
        raise ValueError("not a page-view batch")
    names: list[str] = data["f"]
    if _POSITIONAL and names == _NAMES_LIST:
        return _decode_own(data["r"])
    views: list[PageView] = []
    for row in data["r"]:
        values = dict(zip(names, row, strict=True))
        own = {name: values[name] for name in _VIEW if name in values}
        own["visitor"] = bytes.fromhex(own["visitor"])
        own["lifetime_visitor"] = bytes.fromhex(own["lifetime_visitor"])
        own["timestamp"] = _EPOCH + timedelta(microseconds=own["timestamp"])
        enrichment = Enrichment(**{n: values[n] for n in _ENRICHMENT if n in values})
        views.append(PageView(**own, enrichment=enrichment))
    return views


# A batch of this release's own fields (the flush's usual case) decodes by position, and
# each distinct enrichment once: a batch's views mostly share browser, system, country
# (frozen, so they may share the object). The flush spent ~16 us a view in the general
# loop above (bench/README.md).
_NAMES_LIST = list(NAMES)
_POSITIONAL = [field.name for field in fields(PageView)] == [*_VIEW, "enrichment"]
_OWN = len(_VIEW)
_new_view: Callable[..., PageView] = PageView  # positional: _VIEW, then the enrichment


def _decode_own(rows: list[list[Any]]) -> list[PageView]:
    enrichments: dict[tuple[Any, ...], Enrichment] = {}
    views: list[PageView] = []
    width = len(NAMES)
    for row in rows:
        if len(row) != width:
            raise ValueError(f"a view of {len(row)} values, not {width}")
        found = tuple(row[_OWN:])
        enrichment = enrichments.get(found)
        if enrichment is None:
            enrichment = enrichments[found] = Enrichment(
                **dict(zip(_ENRICHMENT, found, strict=True))
            )
        own = row[:_OWN]
        own[_TIMESTAMP] = _EPOCH + timedelta(microseconds=own[_TIMESTAMP])
        own[_VISITOR] = bytes.fromhex(own[_VISITOR])
        own[_LIFETIME] = bytes.fromhex(own[_LIFETIME])
        views.append(_new_view(*own, enrichment))
    return views
