"""Redis mode's counter reader.

:class:`RedisCounterReader` answers all-time counters including hits not flushed yet:
page views are the database totals plus the pending counts; unique visitors come from
the Redis visitor sets (exact below 1 000, HyperLogLog above), seeded from the
database's visitor rows the first time a key is read, plus the imported visitors
(numbers without a visitor set, ``stat_totals.imported_visitors``).
"""

from __future__ import annotations

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
from page_tracker.errors import StoreError
from page_tracker.stats.counters import Counters, DatabaseCounterReader
from page_tracker.stats.models import SITE, LifetimeVisitor, Path

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
        try:
            counted, site_imported, page_imported = self.database.read_with_imported(site_id, path)
            site_pending, page_pending, site_uv, page_uv, site_seeded, page_seeded = self._count(
                site_id, path
            )
            if not (site_seeded and page_seeded):
                if not site_seeded:
                    self._seed(site_id, None)
                if not page_seeded:
                    self._seed(site_id, path)
                _, _, site_uv, page_uv, _, _ = self._count(site_id, path)
        except redis.RedisError as error:
            raise StoreError(f"Redis failed to read counters: {error}") from error
        # Imported history brought its uniques as numbers (no visitors to put in a set).
        return Counters(
            site_pv=counted.site_pv + site_pending,
            site_uv=site_uv + site_imported,
            page_pv=counted.page_pv + page_pending,
            page_uv=page_uv + page_imported,
        )
