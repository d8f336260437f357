"""Redis mode's counter reader.

:class:`RedisCounterReader` answers all-time counters including hits not flushed yet:
page views are the database totals plus the pending counts; unique visitors come from
the Redis visitor sets (exact below 1 000, HyperLogLog above), seeded from the
database's visitor rows the first time a key is read.

Reads degrade, never fail on Redis: when Redis refuses the seed (a write: a full Redis
with ``noeviction`` refuses it), uniques are the larger of the database's and the
unseeded key's; when Redis cannot be read at all, the answer is the database totals.
Either way the reader gets numbers, a bit low until Redis recovers, and the log says why.
"""

from __future__ import annotations

import logging

import redis
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from page_tracker.buffer.redis_keys import (
    EXACT_UNIQUES_BELOW,
    SEED_TTL,
    VISITOR_TTL,
    RedisKeys,
    page_field,
    site_field,
)
from page_tracker.buffer.redis_scripts import Scripts
from page_tracker.stats.counters import Counters, DatabaseCounterReader
from page_tracker.stats.models import SITE, LifetimeVisitor, Path

log = logging.getLogger(__name__)

SEED_CHUNK = 5000


class RedisCounterReader:
    """All-time counters = database totals + what Redis holds that is not flushed yet."""

    def __init__(
        self, client: redis.Redis, prefix: str, session_factory: sessionmaker[Session]
    ) -> None:
        self.client = client
        self.keys = RedisKeys(prefix)
        self.scripts = Scripts(client)
        self.session_factory = session_factory
        self.database = DatabaseCounterReader(session_factory)

    def _count(self, site_id: str, path: str) -> list[int]:
        keys = self.keys
        result = self.scripts.count(
            keys=[
                keys.pending,
                keys.visitors(site_id),
                keys.visitors(site_id, path),
                keys.seeded(site_id),
                keys.seeded(site_id, path),
            ],
            args=[site_field(site_id), page_field(site_id, path)],
        )
        return [int(value) for value in result]

    def _seed(self, site_id: str, path: str | None) -> None:
        """Add the database's visitors of the site (or page) to its Redis key."""
        query = select(LifetimeVisitor.visitor).where(LifetimeVisitor.site_id == site_id)
        if path is None:
            query = query.where(LifetimeVisitor.path_id == SITE)
        else:
            page = select(Path.id).where(Path.site_id == site_id, Path.path == path)
            query = query.where(LifetimeVisitor.path_id == page.scalar_subquery())
        with self.session_factory() as session:
            members = list(session.scalars(query))
        keys = [self.keys.visitors(site_id, path), self.keys.seeded(site_id, path)]
        for start in range(0, len(members), SEED_CHUNK):
            chunk = members[start : start + SEED_CHUNK]
            self.scripts.seed(keys=keys, args=[EXACT_UNIQUES_BELOW, VISITOR_TTL, 0, *chunk])
        # the mark last: a reader that sees it sees every database visitor in the key
        self.scripts.seed(keys=keys, args=[EXACT_UNIQUES_BELOW, VISITOR_TTL, SEED_TTL])

    def read(self, site_id: str, path: str) -> Counters:
        counted = self.database.read(site_id, path)
        try:
            site_pending, page_pending, site_uv, page_uv, site_seeded, page_seeded = self._count(
                site_id, path
            )
        except redis.RedisError as error:
            log.warning("counters: Redis unreadable (%s): database totals only", _name(error))
            return counted
        if not (site_seeded and page_seeded):
            try:
                site_uv, page_uv = self._seeded_uniques(site_id, path, site_seeded, page_seeded)
            except redis.RedisError as error:
                log.warning("counters: Redis refused the seed (%s): uniques unseeded", _name(error))
                site_uv, page_uv = max(site_uv, counted.site_uv), max(page_uv, counted.page_uv)
        return Counters(
            site_pv=counted.site_pv + site_pending,
            site_uv=site_uv,
            page_pv=counted.page_pv + page_pending,
            page_uv=page_uv,
        )

    def _seeded_uniques(
        self, site_id: str, path: str, site_seeded: int, page_seeded: int
    ) -> tuple[int, int]:
        """Seed the keys not seeded yet; the uniques counted after that."""
        if not site_seeded:
            self._seed(site_id, None)
        if not page_seeded:
            self._seed(site_id, path)
        _, _, site_uv, page_uv, _, _ = self._count(site_id, path)
        return site_uv, page_uv


def _name(error: Exception) -> str:
    """An error's class: its text may quote the command's arguments."""
    return error.__class__.__name__
