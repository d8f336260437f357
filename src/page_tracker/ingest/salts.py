"""Daily salts of the visitor hash (PRODUCT.md §5): one random secret per UTC day.

A day's salt is created on first use (any process may do it; all agree on one value)
and rotation deletes every salt of a past day, so yesterday's hashes can no longer be
linked to an address. Embedded mode keeps the salt in the database; Redis mode in Redis
with an expiry. Processes cache today's salt in memory.

Redis mode falls back on the database when Redis refuses to create the salt (a full
Redis with ``noeviction`` refuses ``SET``; README "Redis memory"): the hit is still
counted, with the database's salt of the day. So that every process hashes with one
salt, a salt Redis creates is the database's salt of that day when there is one.
"""

from __future__ import annotations

import logging
import secrets
from datetime import date, timedelta
from typing import Any, Protocol, cast

import redis
from sqlalchemy import Engine, Table, delete, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from page_tracker.db import insert_missing, retry_transient
from page_tracker.extensions import Extension
from page_tracker.ingest.models import Salt

log = logging.getLogger(__name__)

SALT_SIZE = 32


class SaltStore(Protocol):
    def salt_for(self, day: date) -> bytes:
        """The salt of ``day`` (UTC), created when missing."""
        ...

    def rotate(self, today: date) -> None:
        """Make sure today's salt exists and destroy the salts of earlier days."""
        ...


SALTS: Extension[SaltStore] = Extension("page_tracker.salts", "the daily salts of visitor hashes")


class _DayCache:
    """Today's salt. Day and salt live in one tuple, replaced whole, so a reader sees
    a matching pair without a lock (read on every hit)."""

    def __init__(self) -> None:
        self._entry: tuple[date | None, bytes] = (None, b"")

    def get(self, day: date) -> bytes | None:
        cached_day, salt = self._entry
        return salt if cached_day == day else None

    def put(self, day: date, salt: bytes) -> None:
        self._entry = (day, salt)


class DatabaseSaltStore:
    """Salts in the ``tracking_salts`` table, on a connection of their own."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._cache = _DayCache()

    def salt_for(self, day: date) -> bytes:
        cached = self._cache.get(day)
        if cached is not None:
            return cached
        table = cast("Table", Salt.__table__)

        def transactions() -> bytes | None:
            # Three short transactions: insert-if-missing (concurrent first users all read
            # the winner's salt), read, and the lazy rotation that destroys the older
            # salts. Holding them in one transaction deadlocks on MySQL.
            with Session(self.engine) as session, session.begin():
                insert_missing(session, table, [{"day": day, "salt": new_salt()}])
            with Session(self.engine) as session:
                found = session.scalar(select(Salt.salt).where(Salt.day == day))
            with Session(self.engine) as session, session.begin():
                session.execute(delete(Salt).where(Salt.day < day))
            return found

        salt = retry_transient(transactions)
        if salt is None:  # pragma: no cover - inserted above
            raise RuntimeError(f"no salt for {day}")
        self._cache.put(day, salt)
        return salt

    def existing(self, day: date) -> bytes | None:
        """The stored salt of ``day``, or ``None`` (never creates one)."""
        with Session(self.engine) as session:
            return session.scalar(select(Salt.salt).where(Salt.day == day))

    def forget_before(self, day: date) -> None:
        """Destroy the salts of the days before ``day``."""
        with self.engine.begin() as connection:
            connection.execute(delete(Salt).where(Salt.day < day))

    def rotate(self, today: date) -> None:
        self.salt_for(today)
        self.forget_before(today)


class RedisSaltStore:
    """Salts under ``{prefix}salt:{YYYY-MM-DD}``, created with ``SET NX`` and expiring two
    days later (rotation also deletes yesterday's explicitly).

    With a ``database`` store, a salt Redis refuses to create comes from the database
    (see the module docstring); rotation then destroys past salts in both.
    """

    def __init__(
        self, client: redis.Redis, prefix: str, database: DatabaseSaltStore | None = None
    ) -> None:
        self.client = client
        self.prefix = prefix
        self.database = database
        self._cache = _DayCache()

    def _key(self, day: date) -> str:
        return f"{self.prefix}salt:{day.isoformat()}"

    def salt_for(self, day: date) -> bytes:
        cached = self._cache.get(day)
        if cached is not None:
            return cached
        try:
            salt = self._from_redis(day)
        except redis.RedisError as error:
            if self.database is None:
                raise
            salt = self._when_redis_refuses(day, error, self.database)
        self._cache.put(day, salt)
        return salt

    def _from_redis(self, day: date) -> bytes:
        """Redis's salt of ``day``, created (``SET NX``: one winner) when missing."""
        key = self._key(day)
        found: Any = self.client.get(key)
        if found is not None:
            return bytes(found)
        pipe = self.client.pipeline()
        pipe.set(key, self._candidate(day), nx=True, ex=int(timedelta(days=2).total_seconds()))
        pipe.get(key)
        _, salt = pipe.execute()
        return bytes(salt)

    def _candidate(self, day: date) -> bytes:
        """The value to create Redis's salt with: the database's salt of ``day`` when a
        process fell back on it earlier (so all hash alike), else a new one."""
        if self.database is None:
            return new_salt()
        try:
            return self.database.existing(day) or new_salt()
        except SQLAlchemyError:  # the database is only a tie-breaker here
            return new_salt()

    @staticmethod
    def _when_redis_refuses(
        day: date, error: redis.RedisError, database: DatabaseSaltStore
    ) -> bytes:
        """The database's salt of ``day`` (created when missing); only the error's class
        is logged, its text carries the command's arguments (the salt)."""
        log.warning(
            "Redis refused the salt of %s (%s): using the database's salt",
            day.isoformat(),
            error.__class__.__name__,
        )
        return database.salt_for(day)

    def rotate(self, today: date) -> None:
        self.salt_for(today)
        self.client.delete(*(self._key(today - timedelta(days=n)) for n in (1, 2, 3)))
        if self.database is not None:
            self.database.forget_before(today)


def new_salt() -> bytes:
    return secrets.token_bytes(SALT_SIZE)
