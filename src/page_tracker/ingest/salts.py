"""Daily salts of the visitor hash (PRODUCT.md §5): one random secret per UTC day.

A day's salt is created on first use (any process may do it; all agree on one value)
and rotation deletes every salt of a past day, so yesterday's hashes can no longer be
linked to an address. Embedded mode keeps the salt in the database; Redis mode in Redis
with an expiry, seeded from the database's salt of the day, and falls back to the
database when Redis does not answer (README: "Redis down -> database fallback"), so a
process that starts while Redis is down still counts, with the salt every other process
uses. Processes cache today's salt in memory.
"""

from __future__ import annotations

import logging
import secrets
from datetime import date, timedelta
from typing import Protocol, cast

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

    def rotate(self, today: date) -> None:
        self.salt_for(today)
        with self.engine.begin() as connection:
            connection.execute(delete(Salt).where(Salt.day < today))


class RedisSaltStore:
    """Salts under ``{prefix}salt:{YYYY-MM-DD}``, created with ``SET NX`` and expiring two
    days later (rotation also deletes yesterday's explicitly).

    With a ``fallback`` (the database's store), a new day's key is seeded with the
    fallback's salt of that day, and a Redis failure reads the fallback instead: both
    stores hold the same salt, so a visitor hashed while Redis was down is the same
    visitor once it is back. Without a fallback, or when the database is down when Redis
    creates the key, the salt is random and lives in Redis alone.
    """

    def __init__(self, client: redis.Redis, prefix: str, fallback: SaltStore | None = None) -> None:
        self.client = client
        self.prefix = prefix
        self.fallback = fallback
        self._cache = _DayCache()

    def _key(self, day: date) -> str:
        return f"{self.prefix}salt:{day.isoformat()}"

    def salt_for(self, day: date) -> bytes:
        cached = self._cache.get(day)
        if cached is not None:
            return cached
        try:
            salt = self._from_redis(day)
        except redis.RedisError:
            if self.fallback is None:
                raise
            log.warning("Redis unavailable: the salt of %s comes from the database", day)
            salt = self.fallback.salt_for(day)
        self._cache.put(day, salt)
        return salt

    def _from_redis(self, day: date) -> bytes:
        key = self._key(day)
        found = cast("bytes | None", self.client.get(key))  # the client does not decode
        if found is not None:
            return bytes(found)
        pipe = self.client.pipeline()
        pipe.set(key, self._seed(day), nx=True, ex=int(timedelta(days=2).total_seconds()))
        pipe.get(key)
        _, salt = pipe.execute()
        return bytes(salt)

    def _seed(self, day: date) -> bytes:
        """The database's salt of ``day`` when it answers, else a new random one."""
        if self.fallback is None:
            return new_salt()
        try:
            return self.fallback.salt_for(day)
        except SQLAlchemyError as error:
            log.warning("database unavailable: a Redis-only salt for %s (%s)", day, error)
            return new_salt()

    def rotate(self, today: date) -> None:
        self.salt_for(today)
        self.client.delete(*(self._key(today - timedelta(days=n)) for n in (1, 2, 3)))
        if self.fallback is not None:
            self.fallback.rotate(today)


def new_salt() -> bytes:
    return secrets.token_bytes(SALT_SIZE)
