"""Redis mode's sink.

:class:`RedisSink` makes a batch durable in Redis with one script call (stream entry +
pending counts + visitor sets, atomically); when Redis fails it writes the batch
straight to the database under the same batch id, so a write that reached Redis after
all is still counted once (see :mod:`page_tracker.buffer.counted_batches`).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence

import redis
from sqlalchemy.orm import Session, sessionmaker

from page_tracker.buffer.batch_format import encode_views
from page_tracker.buffer.counted_batches import write_batches
from page_tracker.buffer.live import RedisLiveVisitors
from page_tracker.buffer.packed_commands import PackedCommands
from page_tracker.buffer.redis_counters import BatchCounts, ReadKey
from page_tracker.buffer.redis_keys import RedisKeys, page_field, site_field
from page_tracker.buffer.redis_scripts import (
    Scripts,
    ingest_arguments,
    read_counts,
    run_if_unloaded,
)
from page_tracker.errors import StoreError
from page_tracker.metrics import HitMetrics
from page_tracker.stats.counters import TotalKey
from page_tracker.stats.pageview import PageView

log = logging.getLogger(__name__)

REDIS_FALLBACK = "redis-fallback"
BUSUANZI = "busuanzi"  # PageView.source of the hits that read their counters back


class RedisSink:
    """Writes each submitted batch to Redis; the database is the fallback."""

    def __init__(
        self,
        client: redis.Redis,
        prefix: str,
        session_factory: sessionmaker[Session] | None = None,
        metrics: HitMetrics | None = None,
        *,
        live: RedisLiveVisitors | None = None,
        batch_counts: BatchCounts | None = None,
    ) -> None:
        self.client = client
        self.live = live
        self.batch_counts = batch_counts
        self.keys = RedisKeys(prefix)
        self.scripts = Scripts(client)
        self.session_factory = session_factory
        self.metrics = metrics

    def submit(self, views: Sequence[PageView]) -> None:
        if not views:
            return
        batch_id = uuid.uuid4().hex
        # Busuanzi requests read their page's counters right after their hit: the same
        # script call returns them (RedisCounterReader.read_after_hit).
        reads: list[ReadKey] = []
        if self.batch_counts is not None:
            reads = list(dict.fromkeys((v.site_id, v.path) for v in views if v.source == BUSUANZI))
        keys, argv = ingest_arguments(self.keys, batch_id, encode_views(views), views, reads)
        # One pre-built write per batch: the script call, then the live visitors' commands
        # (same round trip; best effort, below).
        commands = PackedCommands()
        commands.add("EVALSHA", self.scripts.ingest.sha, len(keys), *keys, *argv)
        if self.live is not None:
            for command in self.live.commands(views):
                commands.add(*command)
        try:
            reply, *live_replies = commands.execute(self.client)
            stored = run_if_unloaded(reply, self.scripts.ingest, keys, argv)
        except redis.RedisError as error:
            if self.session_factory is None:
                raise StoreError(f"Redis failed to store {len(views)} hits: {error}") from error
            # Redis may or may not have run the script (a lost reply): the batch id
            # makes the flush skip it if it did.
            log.warning(
                "Redis write failed (%s); %d hits written to the database", error, len(views)
            )
            totals: dict[TotalKey, tuple[int, int]] = {}
            if self.batch_counts is not None:
                self.batch_counts.forget(reads)
            write_batches(self.session_factory, [(batch_id, views)], totals=totals)
            if self.metrics is not None:
                self.metrics.count(REDIS_FALLBACK, len(views))
            self._raise_totals(totals)
        else:
            if reads and self.batch_counts is not None:
                self.batch_counts.record(read_counts(reads, stored))
            # The batch is durable; live visitors are a nicety and never fail it.
            refused = next((reply for reply in live_replies if isinstance(reply, Exception)), None)
            if refused is not None:
                log.warning("live visitors not recorded (%s)", refused)

    def _raise_totals(self, totals: dict[TotalKey, tuple[int, int]]) -> None:
        """Best effort: the totals cache learns of hits that bypassed ``pending``. If
        Redis is still down, the next flush of these pages raises them instead."""
        argv: list[str | int] = []
        for (site, path), (pageviews, _visitors) in totals.items():
            argv += [site_field(site) if path is None else page_field(site, path), pageviews]
        try:
            self.scripts.cache_totals(keys=[self.keys.totals], args=argv)
        except redis.RedisError as error:
            log.warning("Redis fallback: totals cache not raised (%s)", error)
