"""Where cached values live: :class:`LocalStorage` (this process) and
:class:`RedisStorage` (shared by every process), behind :class:`Storage`.

Redis keys (under ``REDIS_KEY_PREFIX``, ``P``):

``P cache:NODE|GROUP|DETAIL``   one cached value (serialized), expiring with its TTL.
``P cachetag:NODE|GROUP|``      set of the keys of one group (a site), for
                                invalidation; expires with the longest of them.
``P cachelock:NODE|GROUP|DETAIL`` redis-py's lock of the one process loading that key.

A storage never fails its caller on its own trouble: Redis errors are logged and
counted and the value is then simply not cached (a miss, or not stored).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import redis
from cachetools import TLRUCache

log = logging.getLogger(__name__)


class Storage(Protocol):
    #: True when values are kept as bytes (through the manager's serializer); a
    #: storage that is not keeps the objects themselves.
    serialized: bool

    def get(self, key: str) -> Any | None:
        """The :class:`Entry` under ``key`` (local) or its bytes (serialized); ``None``
        when absent or expired."""
        ...

    def set(self, key: str, value: Any, ttl: float, tag: str) -> None:
        """Keep ``value`` under ``key`` for ``ttl`` seconds, findable by ``tag``."""
        ...

    def delete(self, key: str) -> None: ...

    def delete_tag(self, tag: str) -> None:
        """Drop every entry set with ``tag``."""
        ...


@dataclass(frozen=True, slots=True)
class Entry:
    """A value held by the local storage (``None`` is a value: a wrapper tells it from
    an absent key)."""

    value: Any
    ttl: float
    tag: str


def _expires(_key: str, entry: Entry, now: float) -> float:
    return now + entry.ttl


class LocalStorage:
    """An in-process LRU of at most ``maxsize`` entries, each with its own TTL
    (``cachetools.TLRUCache``); thread-safe (one short lock per call)."""

    serialized = False

    def __init__(self, maxsize: int = 10_000, timer: Callable[[], float] | None = None) -> None:
        if timer is None:
            self._entries: TLRUCache[str, Entry] = TLRUCache(maxsize, ttu=_expires)
        else:
            self._entries = TLRUCache(maxsize, ttu=_expires, timer=timer)
        self._tags: dict[str, set[str]] = {}
        self._lock = threading.Lock()
        self.maxsize = maxsize

    def get(self, key: str) -> Entry | None:
        with self._lock:
            return self._entries.get(key)

    def set(self, key: str, value: Any, ttl: float, tag: str) -> None:
        with self._lock:
            self._entries[key] = Entry(value, ttl, tag)
            if len(self._tags) > 2 * self.maxsize:  # keys the LRU dropped linger here
                self._tags.clear()
            self._tags.setdefault(tag, set()).add(key)

    def delete(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def delete_tag(self, tag: str) -> None:
        with self._lock:
            for key in self._tags.pop(tag, ()):
                self._entries.pop(key, None)

    def __len__(self) -> int:
        with self._lock:
            self._entries.expire()
            return len(self._entries)


class RedisStorage:
    """Values in Redis (``SET ... PX``), shared by every process of the deployment."""

    serialized = True

    def __init__(self, client: redis.Redis, prefix: str, on_error: Callable[[], None]) -> None:
        self.client = client
        self.prefix = prefix
        self.on_error = on_error

    def _key(self, key: str) -> str:
        return f"{self.prefix}cache:{key}"

    def _tag(self, tag: str) -> str:
        return f"{self.prefix}cachetag:{tag}"

    def lock_name(self, key: str) -> str:
        return f"{self.prefix}cachelock:{key}"

    def _failed(self, what: str, error: redis.RedisError) -> None:
        # The class only: an error's text may quote the command's arguments.
        log.warning("cache: Redis %s failed (%s)", what, error.__class__.__name__)
        self.on_error()

    def get(self, key: str) -> bytes | None:
        try:
            found = self.client.get(self._key(key))
        except redis.RedisError as error:
            self._failed("read", error)
            return None
        return found if isinstance(found, bytes) else None

    def set(self, key: str, value: Any, ttl: float, tag: str) -> None:
        milliseconds = max(1, int(ttl * 1000))
        try:
            with self.client.pipeline(transaction=False) as pipe:
                pipe.set(self._key(key), value, px=milliseconds)
                pipe.sadd(self._tag(tag), key)
                # GT: a short-lived entry never shortens the tag's life (Redis >= 7).
                pipe.pexpire(self._tag(tag), milliseconds, gt=True)
                pipe.pexpire(self._tag(tag), milliseconds, nx=True)
                pipe.execute()
        except redis.RedisError as error:
            self._failed("write", error)

    def delete(self, key: str) -> None:
        try:
            self.client.delete(self._key(key))
        except redis.RedisError as error:
            self._failed("delete", error)

    def delete_tag(self, tag: str) -> None:
        try:
            members = self.client.smembers(self._tag(tag))
            keys = [self._key(m.decode() if isinstance(m, bytes) else str(m)) for m in members]
            self.client.delete(self._tag(tag), *keys)
        except redis.RedisError as error:
            self._failed("invalidation", error)
