"""A :class:`Node`: one named kind of cached value (seed 002's "big key")."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import TypeAdapter

T = TypeVar("T")

LOCAL = "local"
REDIS = "redis"


@dataclass(frozen=True, eq=False)
class Node(Generic[T]):
    """What is cached under one name: for how long, where, and how it becomes JSON.

    - ``name``: the first part of every key (and of the metrics' names);
    - ``ttl``: seconds an entry lives (the manager may be told another per name,
      from the settings);
    - ``storages``: the storage names looked up in order (a hit in a later one fills
      the earlier ones); names the manager does not have are skipped, so a node
      names ``redis`` and runs without it in embedded mode;
    - ``type_``: the value's type; values go to byte storages as ``type_`` dumped to
      JSON-able data by pydantic (dataclasses, models, dicts...) and come back
      validated as ``type_``.

    Keys are ``name|group|detail``: ``group`` is what invalidation drops at once (a
    site id), ``detail`` tells the entries of a group apart (a path, a query).
    Values must not be changed by their readers: the local storage hands out the
    object it holds.
    """

    name: str
    ttl: float
    type_: Any
    storages: tuple[str, ...] = (LOCAL, REDIS)
    _adapter: TypeAdapter[T] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if "|" in self.name or not self.name:
            raise ValueError(f"a node name is not empty and has no '|': {self.name!r}")
        object.__setattr__(self, "_adapter", TypeAdapter(self.type_))

    def key(self, group: str, detail: str = "") -> str:
        return f"{self.name}|{group}|{detail}"

    def tag(self, group: str) -> str:
        """What the entries of ``group`` share (their keys' start)."""
        return f"{self.name}|{group}|"

    def to_plain(self, value: T) -> Any:
        """``value`` as JSON-able data, for a serializer."""
        return self._adapter.dump_python(value, mode="json")

    def from_plain(self, plain: Any) -> T:
        """The value :meth:`to_plain` gave; raises ``pydantic.ValidationError`` else."""
        return self._adapter.validate_python(plain)
