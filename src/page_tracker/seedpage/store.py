"""Counter stores: where the seed page's counter lives.

:class:`CounterStore` is the interface; :class:`RedisCounterStore` and
:class:`DatabaseCounterStore` are the two real implementations, chosen by configuration
(``REDIS_URL`` set or not) in :mod:`page_tracker.seedpage.feature`. Both raise
:class:`~page_tracker.errors.StoreError` when their backend fails.
"""

from __future__ import annotations

from typing import Protocol, cast

import redis
from sqlalchemy import Table, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from page_tracker.db import add_to_counters
from page_tracker.errors import StoreError
from page_tracker.extensions import Extension
from page_tracker.seedpage.models import Counter


class CounterStore(Protocol):
    def increment(self, name: str) -> int:
        """Add one to counter ``name`` and return its new value."""

    def get(self, name: str) -> int:
        """The current value of counter ``name`` (0 when it never counted)."""


STORE: Extension[CounterStore] = Extension(
    "page_tracker.counter_store", "the seed page's counter store (Redis or database)"
)


class RedisCounterStore:
    """Counters as Redis integers under ``{prefix}counter:{name}``."""

    def __init__(self, client: redis.Redis, prefix: str = "pt:") -> None:
        self._client = client
        self._prefix = prefix

    def _key(self, name: str) -> str:
        return f"{self._prefix}counter:{name}"

    def increment(self, name: str) -> int:
        try:
            return int(self._client.incr(self._key(name)))
        except redis.RedisError as error:
            raise StoreError(f"Redis failed to increment {name!r}: {error}") from error

    def get(self, name: str) -> int:
        try:
            value = self._client.get(self._key(name))
        except redis.RedisError as error:
            raise StoreError(f"Redis failed to read {name!r}: {error}") from error
        return int(value) if value is not None else 0


class DatabaseCounterStore:
    """Counters as rows of the ``counters`` table, incremented with an upsert.

    The read-back happens in the same transaction as the upsert: the row is locked
    (or, on SQLite, the database is) until commit, so the value returned is exactly
    this increment's, even under concurrency.
    """

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def increment(self, name: str) -> int:
        try:
            with self._sessions.begin() as session:
                add_to_counters(
                    session,
                    cast(Table, Counter.__table__),
                    ["name"],
                    [{"name": name, "value": 1}],
                    ["value"],
                )
                return int(session.scalar(select(Counter.value).where(Counter.name == name)) or 0)
        except SQLAlchemyError as error:
            raise StoreError(f"database failed to increment {name!r}: {error}") from error

    def get(self, name: str) -> int:
        try:
            with self._sessions() as session:
                return int(session.scalar(select(Counter.value).where(Counter.name == name)) or 0)
        except SQLAlchemyError as error:
            raise StoreError(f"database failed to read {name!r}: {error}") from error
