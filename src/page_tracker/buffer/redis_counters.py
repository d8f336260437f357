"""Redis mode's counter reader.

:class:`RedisCounterReader` answers all-time counters including hits not flushed yet,
with one script call and no database query: page views are the database totals cached
in Redis (``P totals``, kept by the flush) plus the pending counts; unique visitors come
from the Redis visitor sets (exact below 1 000, HyperLogLog above) plus the imported
visitors (cached in ``P totals`` too: they have no visitor set). Only what Redis does
not hold yet is read from the database, once per key and process at a time: the totals
of a page never read or flushed since Redis started, and the visitors of a key the
first time it is read.

A Busuanzi request counts and reads in one step (:meth:`RedisCounterReader.
read_after_hit`): the ingest script call that records its batch also returns the
counters of the batch's Busuanzi pages (:class:`BatchCounts`), so its read costs no
second round trip.

Reads degrade, never fail on Redis: when Redis refuses to cache what it lacks (a write:
a full Redis with ``noeviction`` refuses it), page views are the database totals plus
the pending counts and uniques the larger of the database's and the unseeded key's;
when Redis cannot be read at all, the answer is the database totals. Either way the
reader gets numbers, a bit low until Redis recovers, and the log says why.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable

import redis
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from page_tracker.buffer.redis_keys import (
    EXACT_UNIQUES_BELOW,
    SEED_TTL,
    VISITOR_TTL,
    RedisKeys,
    imported_page_field,
    imported_site_field,
    page_field,
    site_field,
)
from page_tracker.buffer.redis_scripts import Scripts
from page_tracker.stats.counters import Counters, DatabaseCounterReader
from page_tracker.stats.models import SITE, LifetimeVisitor, Path

log = logging.getLogger(__name__)

SEED_CHUNK = 5000

ReadKey = tuple[str, str]  # (site id, path)


class BatchCounts:
    """The ``COUNT`` numbers the ingest script returned for the pages of the batches this
    process wrote last. The thread that writes a batch (the group commit's leader)
    records its numbers before it answers the batch's requests, so a request that was in
    a batch finds numbers that include its own hit (or a later batch's); other readers
    never use them."""

    LIMIT = 10_000  # pages remembered at most (bounds memory against random paths)

    def __init__(self) -> None:
        self._counts: dict[ReadKey, list[int]] = {}

    def record(self, counts: dict[ReadKey, list[int]]) -> None:
        if len(self._counts) + len(counts) > self.LIMIT:
            self._counts = {}
        self._counts.update(counts)

    def forget(self, reads: Iterable[ReadKey]) -> None:
        """A batch written another way (the database fallback): its pages' numbers are
        older than its hits."""
        for read in reads:
            self._counts.pop(read, None)

    def get(self, site_id: str, path: str) -> list[int] | None:
        return self._counts.get((site_id, path))


class RedisCounterReader:
    """All-time counters = database totals + what Redis holds that is not flushed yet."""

    def __init__(
        self,
        client: redis.Redis,
        prefix: str,
        session_factory: sessionmaker[Session],
        batch_counts: BatchCounts | None = None,
    ) -> None:
        self.client = client
        self.batch_counts = batch_counts or BatchCounts()
        self.keys = RedisKeys(prefix)
        self.scripts = Scripts(client)
        self.session_factory = session_factory
        self.database = DatabaseCounterReader(session_factory)
        self._loading: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def _loader(self, key: str) -> threading.Lock:
        """The lock of one key's database load: one loader per key and process, the
        other readers of that key wait for it and then find the key in Redis."""
        with self._lock:
            if len(self._loading) > 10_000:  # bound memory against random paths
                self._loading.clear()
            return self._loading.setdefault(key, threading.Lock())

    def _count(self, site_id: str, path: str) -> list[int]:
        keys = self.keys
        result = self.scripts.count(
            keys=[
                keys.pending,
                keys.visitors(site_id),
                keys.visitors(site_id, path),
                keys.seeded(site_id),
                keys.seeded(site_id, path),
                keys.totals,
            ],
            args=[
                site_field(site_id),
                page_field(site_id, path),
                imported_site_field(site_id),
                imported_page_field(site_id, path),
            ],
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

    def _cache_totals(self, site_id: str, path: str) -> None:
        """Put the database's totals and imported visitors of the site and the page
        into ``P totals``."""
        found, site_imported, page_imported = self.database.read_with_imported(site_id, path)
        self.scripts.cache_totals(
            keys=[self.keys.totals],
            args=[
                site_field(site_id),
                found.site_pv,
                page_field(site_id, path),
                found.page_pv,
                imported_site_field(site_id),
                site_imported,
                imported_page_field(site_id, path),
                page_imported,
            ],
        )

    def forget(self, site_id: str) -> None:
        """Drop the site's fields from ``P totals`` (read again on the next read)."""
        totals = self.keys.totals
        try:
            fields = [site_field(site_id), imported_site_field(site_id)]
            for pattern in (page_field, imported_page_field):
                match = pattern(_glob_escape(site_id), "*")
                fields += [field for field, _ in self.client.hscan_iter(totals, match=match)]
            for start in range(0, len(fields), 500):
                self.client.hdel(totals, *fields[start : start + 500])
        except redis.RedisError as error:
            # The next flush of each page raises its total again; imported visitors
            # stay as cached until Redis recovers and another import or delete.
            log.warning("counters: Redis refused to forget a site (%s)", _name(error))

    def _load_missing(self, site_id: str, path: str, counted: list[int]) -> list[int]:
        """Read from the database what Redis lacks for the site and page; recount."""
        with self._loader(f"{site_id}:{path}"):
            counted = self._count(site_id, path)  # a loader may have just finished
            if not _missing(counted):
                return counted
            if min(counted[6:10]) < 0:
                self._cache_totals(site_id, path)
            if not counted[4]:
                with self._loader(site_id):  # the site's key, shared by its pages
                    if not self._count(site_id, path)[4]:
                        self._seed(site_id, None)
            if not counted[5]:
                self._seed(site_id, path)
            return self._count(site_id, path)

    def read_after_hit(self, site_id: str, path: str) -> Counters:
        """The counters for a request whose hit on ``path`` was just recorded: the numbers
        its batch's ingest call returned when they are complete, else :meth:`read`."""
        counted = self.batch_counts.get(site_id, path)
        if counted is None or _missing(counted):
            return self.read(site_id, path)
        return _counters(counted)

    def read(self, site_id: str, path: str) -> Counters:
        try:
            counted = self._count(site_id, path)
        except redis.RedisError as error:
            log.warning("counters: Redis unreadable (%s): database totals only", _name(error))
            return self.database.read(site_id, path)
        if _missing(counted):
            try:
                counted = self._load_missing(site_id, path, counted)
            except redis.RedisError as error:
                log.warning("counters: Redis refused the cache (%s): database totals", _name(error))
                return self._degraded(site_id, path, counted)
        return _counters(counted)

    def _degraded(self, site_id: str, path: str, counted: list[int]) -> Counters:
        """Database totals plus Redis's pending counts, for when Redis cannot take the
        totals or visitors it lacks."""
        database = self.database.read(site_id, path)
        site_pending, page_pending, site_uv, page_uv = counted[:4]
        return Counters(
            site_pv=database.site_pv + site_pending,
            site_uv=max(site_uv, database.site_uv),
            page_pv=database.page_pv + page_pending,
            page_uv=max(page_uv, database.page_uv),
        )


def _counters(counted: list[int]) -> Counters:
    """Counters from ``COUNT``'s numbers (cached totals + pending; uniques from Redis
    plus the imported visitors cached beside the totals)."""
    site_pending, page_pending, site_uv, page_uv = counted[:4]
    return Counters(
        site_pv=max(counted[6], 0) + site_pending,
        site_uv=site_uv + max(counted[8], 0),
        page_pv=max(counted[7], 0) + page_pending,
        page_uv=page_uv + max(counted[9], 0),
    )


def _missing(counted: list[int]) -> bool:
    """True when the ``COUNT`` result lacks a seeded visitor key or a cached total."""
    return not (counted[4] and counted[5]) or min(counted[6:10]) < 0


def _glob_escape(text: str) -> str:
    """``text`` matched literally by a Redis glob pattern."""
    return re.sub(r"([*?\[\]\\])", r"\\\1", text)


def _name(error: Exception) -> str:
    """An error's class: its text may quote the command's arguments."""
    return error.__class__.__name__
