"""The JSON of a stats answer, rendered once per cached report.

A cached read hands back the very object the cache holds (the process's storage keeps
objects, not bytes), and the answer built from it is the same on every request but for
its ``freshness`` (the page views waiting for a flush are read each time). Validating
and encoding that answer was most of a cached request's CPU (a year by day: 365 points
through pydantic's ``from_attributes``, ~1 ms). So the answer is validated and encoded
once, without its ``freshness``, and kept beside the report object it came from; each
request then appends its own ``freshness`` (the answer models end with it), which gives
the same bytes ``model_dump_json`` would.

An entry is keyed by the report object's identity *and* every other input of the answer
(``head``), and holds the object, so the identity cannot be reused while the entry
lives; when the cache drops or replaces the report (a write, its TTL), the next request
gets a new object and renders it anew. Nothing here outlives the report's own validity:
it only saves rebuilding an answer from the same object. At most :data:`ENTRIES`
answers of at most :data:`MAX_CHARS` characters each are kept (an hourly year is not).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Mapping
from typing import Any, Final

from cachetools import LRUCache
from pydantic import BaseModel

ENTRIES: Final = 64
MAX_CHARS: Final = 256 * 1024
_TAIL: Final = "freshness"  # the last field of every answer rendered here


class Rendered:
    """A small LRU of answers' JSON without their tail field (thread-safe)."""

    def __init__(self, entries: int = ENTRIES, max_chars: int = MAX_CHARS) -> None:
        self.entries = entries
        self.max_chars = max_chars
        self._kept: LRUCache[tuple[Hashable, ...], tuple[object, str]] = LRUCache(entries)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._kept)

    def json(
        self,
        model: type[BaseModel],
        head: Mapping[str, Hashable],
        found: object,
        derive: Callable[[Any], Mapping[str, Any]],
        fresh: BaseModel,
    ) -> str:
        """The answer ``model`` of ``head``'s fields, the fields ``derive(found)`` gives
        and ``fresh`` as its last field, encoded as ``model_dump_json`` would."""
        key = (id(found), model, *sorted(head.items()))
        with self._lock:
            kept = self._kept.get(key)  # a hit counts as a use (least recently used goes)
            if kept is not None and kept[0] is found:
                return _with_tail(kept[1], fresh)
        out = model.model_validate(
            {**head, **derive(found), _TAIL: fresh.model_dump()}, from_attributes=True
        )
        text = out.model_dump_json(exclude={_TAIL})
        if len(text) <= self.max_chars:
            with self._lock:
                self._kept[key] = (found, text)
        return _with_tail(text, fresh)


def _with_tail(text: str, fresh: BaseModel) -> str:
    # ``text`` is a JSON object of at least one field: drop its "}", append the tail.
    return f'{text[:-1]},"{_TAIL}":{fresh.model_dump_json()}}}'


RENDERED = Rendered()
