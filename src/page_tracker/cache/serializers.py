"""How a cache storage that holds bytes (Redis) writes values: a :class:`Serializer`.

JSON is the default (and, msgpack not being a dependency, the only one shipped): the
values cached are counters and reports, small and made of numbers and strings.
"""

from __future__ import annotations

import json
from typing import Any, Protocol


class Serializer(Protocol):
    def dumps(self, value: Any) -> bytes:
        """``value`` (JSON-able: dicts, lists, strings, numbers, ``None``) as bytes."""
        ...

    def loads(self, data: bytes) -> Any:
        """The value :meth:`dumps` wrote; raises ``ValueError`` for bytes it did not."""
        ...


class JSONSerializer:
    """Compact UTF-8 JSON; non-ASCII text kept as is (smaller than ``\\uXXXX``)."""

    def dumps(self, value: Any) -> bytes:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()

    def loads(self, data: bytes) -> Any:
        return json.loads(data)  # a JSONDecodeError is a ValueError
