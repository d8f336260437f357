"""The cache :class:`Manager` (seed 002): storages by name, and ``get`` through them.

A read looks the node's key up in its storages in order; a hit in a later storage
fills the earlier ones. On a miss one caller loads (the others of this process wait
for it on a per-key lock; with Redis, those of other processes wait on redis-py's
lock), then looks again before loading, so a cold key costs one load however many
readers arrive at once. What the loader raises reaches the caller and nothing is
cached. Invalidation drops a group (a site) from every storage of a node.

Metrics (summed per thread, :class:`~page_tracker.metrics.HitMetrics`):
``NODE.hit``, ``NODE.miss``, ``NODE.load`` and ``redis-error``.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, TypeVar

import pydantic

from page_tracker.cache.locks import KeyLocks, redis_lock
from page_tracker.cache.node import Node
from page_tracker.cache.serializers import JSONSerializer, Serializer
from page_tracker.cache.storages import Entry, RedisStorage, Storage
from page_tracker.extensions import Extension
from page_tracker.metrics import HitMetrics

log = logging.getLogger(__name__)

T = TypeVar("T")
_MISSING: Any = object()


class Manager:
    """Cached reads through named storages."""

    def __init__(
        self,
        serializer: Serializer | None = None,
        ttls: Mapping[str, float] | None = None,
        lock_timeout: float = 10.0,
    ) -> None:
        """``ttls``: seconds per node name, instead of the nodes' own; ``lock_timeout``:
        how long a process holds (and others wait for) the Redis lock of a load."""
        self.serializer: Serializer = serializer or JSONSerializer()
        self.all_storage: dict[str, Storage] = {}
        self.ttls = dict(ttls or {})
        self.lock_timeout = lock_timeout
        self.metrics = HitMetrics()
        self.nodes: dict[str, Node[Any]] = {}
        self._locks = KeyLocks()
        self._chosen: dict[tuple[str, ...], list[Storage]] = {}

    def register_storage(self, name: str, storage: Storage) -> None:
        self.all_storage[name] = storage
        self._chosen.clear()

    def register_node(self, node: Node[Any], ttl: float | None = None) -> None:
        """Make ``node`` known to :meth:`invalidate` (a node is also usable without),
        with ``ttl`` instead of its own (from the settings; 0 turns it off)."""
        self.nodes[node.name] = node
        if ttl is not None:
            self.ttls[node.name] = ttl

    def ttl(self, node: Node[Any]) -> float:
        return self.ttls.get(node.name, node.ttl)

    def _storages(self, node: Node[Any]) -> list[Storage]:
        chosen = self._chosen.get(node.storages)
        if chosen is None:  # once per set of names (the read path stays a dict lookup)
            chosen = [self.all_storage[name] for name in node.storages if name in self.all_storage]
            self._chosen[node.storages] = chosen
        return chosen

    def _read(self, storage: Storage, node: Node[T], key: str) -> Any:
        found = storage.get(key)
        if found is None:
            return _MISSING
        if not storage.serialized:
            return found.value if isinstance(found, Entry) else _MISSING
        try:
            return node.from_plain(self.serializer.loads(found))
        except (ValueError, pydantic.ValidationError):  # another version's value
            storage.delete(key)
            return _MISSING

    def _write(self, storage: Storage, node: Node[T], key: str, group: str, value: T) -> None:
        data = self.serializer.dumps(node.to_plain(value)) if storage.serialized else value
        storage.set(key, data, self.ttl(node), node.tag(group))

    def _lookup(self, node: Node[T], key: str, group: str) -> Any:
        storages = self._storages(node)
        for index, storage in enumerate(storages):
            value = self._read(storage, node, key)
            if value is not _MISSING:
                for earlier in storages[:index]:
                    self._write(earlier, node, key, group, value)
                return value
        return _MISSING

    def get(self, node: Node[T], group: str, detail: str, load: Callable[[], T]) -> T:
        """The value of ``node`` for ``(group, detail)``: cached, or ``load()``-ed once
        (per key, across threads and processes) and cached. A TTL of 0: always
        ``load()``."""
        if self.ttl(node) <= 0:
            return load()
        key = node.key(group, detail)
        found = self._lookup(node, key, group)
        if found is not _MISSING:
            self.metrics.count(f"{node.name}.hit")
            return found  # type: ignore[no-any-return]
        self.metrics.count(f"{node.name}.miss")
        with self._locks.hold(key), self._across_processes(node, key):
            found = self._lookup(node, key, group)  # loaded while this one waited
            if found is not _MISSING:
                return found  # type: ignore[no-any-return]
            value = load()
            self.metrics.count(f"{node.name}.load")
            for storage in self._storages(node):
                self._write(storage, node, key, group, value)
            return value

    @contextlib.contextmanager
    def _across_processes(self, node: Node[Any], key: str) -> Iterator[None]:
        shared = next(
            (s for s in self._storages(node) if isinstance(s, RedisStorage)),
            None,
        )
        if shared is None:
            yield
            return
        with redis_lock(
            shared.client, shared.lock_name(key), timeout=self.lock_timeout, wait=self.lock_timeout
        ):
            yield

    def remove(
        self, node: Node[Any], group: str, detail: str = "", storage: str | None = None
    ) -> None:
        """Drop one entry, from ``storage`` or from all of the node's storages."""
        key = node.key(group, detail)
        for name in node.storages:
            if name in self.all_storage and storage in (None, name):
                self.all_storage[name].delete(key)

    def invalidate(self, groups: Iterable[str], nodes: Iterable[Node[Any]] | None = None) -> None:
        """Drop every entry of ``groups`` (site ids) of ``nodes`` (default: every
        registered node) from every storage."""
        chosen = list(self.nodes.values() if nodes is None else nodes)
        for group in set(groups):
            for node in chosen:
                for storage in self._storages(node):
                    storage.delete_tag(node.tag(group))

    def stats(self) -> dict[str, int]:
        """Hits, misses and loads per node so far (this process)."""
        return self.metrics.snapshot()


def redis_error_counter(manager: Manager) -> Callable[[], None]:
    return lambda: manager.metrics.count("redis-error")


CACHE: Extension[Manager] = Extension(
    "page_tracker.cache", "the cache manager (seed 002): local, then Redis in Redis mode"
)
