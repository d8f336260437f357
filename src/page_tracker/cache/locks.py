"""Stampede protection: one loader per key, across the threads of a process
(:class:`KeyLocks`) and across processes (redis-py's ``Lock``, in Redis mode)."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator

import redis

log = logging.getLogger(__name__)


class KeyLocks:
    """A lock per key, held only while some thread holds or waits for it (so memory
    stays bounded by the threads, whatever the keys)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: dict[str, tuple[threading.Lock, int]] = {}

    @contextlib.contextmanager
    def hold(self, key: str) -> Iterator[None]:
        with self._lock:
            lock, users = self._held.get(key, (None, 0))
            if lock is None:
                lock = threading.Lock()
            self._held[key] = (lock, users + 1)
        try:
            with lock:
                yield
        finally:
            with self._lock:
                lock, users = self._held[key]
                if users == 1:
                    del self._held[key]
                else:
                    self._held[key] = (lock, users - 1)

    def __len__(self) -> int:
        with self._lock:
            return len(self._held)


@contextlib.contextmanager
def redis_lock(client: redis.Redis, name: str, timeout: float, wait: float) -> Iterator[bool]:
    """Hold redis-py's lock ``name`` (expiring after ``timeout`` seconds, should its
    holder die); yields whether it was acquired within ``wait`` seconds. Not acquired
    (slow loader, Redis down) the caller loads anyway: a stampede is better than no
    answer."""
    lock = client.lock(name, timeout=timeout, blocking_timeout=wait)
    try:
        acquired = bool(lock.acquire())
    except redis.RedisError as error:
        log.warning("cache: Redis lock unavailable (%s)", error.__class__.__name__)
        acquired = False
    try:
        yield acquired
    finally:
        if acquired:
            with contextlib.suppress(redis.RedisError):  # expired: someone else's now
                lock.release()
