"""Redis mode's flush: move written batches from the Redis stream into the rollups.

Idempotent at every step. Each batch carries a random id; the rollups of a batch and
the row ``tracking_flushed_batches(batch_id)`` are written in **one** database
transaction, and only after that commit is the stream entry acknowledged and deleted
(with its pending counts, atomically, while the totals cache takes the database totals
read in the flush's transaction). So wherever a flush stops:

- before the commit (worker killed, database down): nothing was written; the entry is
  still pending in the consumer group and the next flush takes it again (its own
  pending entries first, other consumers' once idle for ``claim_idle_ms``);
- after the commit, before the ack: the next flush finds the batch id already recorded,
  writes nothing and just acknowledges it;
- Redis restarted: with an append-only file the stream, the group's pending entries and
  the counts come back together (the scripts are atomic).

One entry never stalls the flush: when a write fails for the data it holds
(:func:`~page_tracker.db.is_poison`), the entries are written apart (bisected), the good
ones counted and acknowledged; a bad one stays pending, its failed attempts counted,
and after ``MAX_FLUSH_ATTEMPTS`` it moves to the dead letters
(:mod:`page_tracker.buffer.dead_letters`). A flush that met a bad entry stops there; the
next one (2 s later) tries it again.

A batch written twice to the stream (a client retry after a lost reply) has one id:
counted once. The same holds for a batch the sink wrote straight to the database when
Redis failed (:func:`~page_tracker.buffer.counted_batches.write_batches` records its
id too).
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import redis
from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from page_tracker.buffer.batch_format import decode_views
from page_tracker.buffer.counted_batches import write_batches
from page_tracker.buffer.dead_letters import MAX_FLUSH_ATTEMPTS, DeadLetters
from page_tracker.buffer.models import FlushedBatch
from page_tracker.buffer.redis_keys import (
    GROUP,
    RedisKeys,
    page_field,
    pending_counts,
    site_field,
)
from page_tracker.buffer.redis_scripts import Scripts
from page_tracker.db import is_poison
from page_tracker.stats.counters import TotalKey
from page_tracker.stats.ids import IdCache
from page_tracker.stats.pageview import PageView

log = logging.getLogger(__name__)

Checkpoint = Callable[[str], None]
KEEP_FLUSHED_IDS = timedelta(days=7)


@dataclass
class FlushResult:
    """What one :func:`flush` call did: stream entries taken, page views counted, and
    entries whose batch had already been counted (acknowledged without writing)."""

    entries: int = 0
    views: int = 0
    duplicates: int = 0
    failed: int = 0  # entries left pending because their own data failed to write
    buried: int = 0  # entries moved to the dead letters


@dataclass(frozen=True)
class Entry:
    entry_id: str
    batch_id: str
    views: list[PageView]
    payload: bytes = b""


def consumer_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _entries(raw: Any) -> list[Entry]:
    """Decode XREADGROUP / XAUTOCLAIM entries; a deleted entry comes back empty."""
    entries: list[Entry] = []
    for entry_id, fields in raw:
        eid = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
        if not fields:  # deleted while pending: nothing to count, ack it
            entries.append(Entry(eid, "", []))
            continue
        try:
            views = decode_views(fields[b"v"])
        except (KeyError, ValueError, TypeError) as error:
            log.error("flush: unreadable stream entry %s dropped: %s", eid, error)
            entries.append(Entry(eid, "", []))
            continue
        entries.append(Entry(eid, fields[b"id"].decode(), views, fields[b"v"]))
    return entries


class Flusher:
    """Flushes one prefix's stream into one database (see the module docstring)."""

    def __init__(
        self,
        client: redis.Redis,
        prefix: str,
        session_factory: sessionmaker[Session],
        *,
        consumer: str | None = None,
        count: int = 200,
        claim_idle_ms: int = 30_000,
        forget_consumers_after_ms: int = 3_600_000,
        max_attempts: int = MAX_FLUSH_ATTEMPTS,
        on_flushed: Callable[[set[str]], None] | None = None,
    ) -> None:
        """``on_flushed(site_ids)`` runs after each acknowledged write of those sites'
        hits (the app drops its cached reads of them)."""
        self.client = client
        self.on_flushed = on_flushed
        self.keys = RedisKeys(prefix)
        self.session_factory = session_factory
        self.consumer = consumer or consumer_name()
        self.count = count
        self.claim_idle_ms = claim_idle_ms
        self.forget_consumers_after_ms = forget_consumers_after_ms
        self.scripts = Scripts(client)
        self.ids = IdCache()
        self.max_attempts = max_attempts
        self.dead_letters = DeadLetters(client, prefix)

    def ensure_group(self) -> None:
        """Create the consumer group (and the stream) when missing, also in a full Redis
        (:data:`~page_tracker.buffer.redis_scripts.ENSURE_GROUP`)."""
        self.scripts.ensure_group(keys=[self.keys.stream], args=[GROUP])

    def _claim(self) -> list[Entry]:
        """Own pending entries first (a failed flush of this process), then entries
        of consumers idle too long (a killed worker), then new ones."""
        stream = self.keys.stream
        own: Any = self.client.xreadgroup(GROUP, self.consumer, {stream: "0"}, count=self.count)
        if own and own[0][1]:
            return _entries(own[0][1])
        claimed: Any = self.client.xautoclaim(
            stream, GROUP, self.consumer, self.claim_idle_ms, "0-0", count=self.count
        )
        if claimed[1]:
            return _entries(claimed[1])
        new: Any = self.client.xreadgroup(GROUP, self.consumer, {stream: ">"}, count=self.count)
        return _entries(new[0][1]) if new else []

    def _ack(self, entries: Sequence[Entry], totals: dict[TotalKey, tuple[int, int]]) -> None:
        argv: list[Any] = [GROUP, len(totals)]
        for (site, path), (pageviews, _visitors) in totals.items():
            argv += [site_field(site) if path is None else page_field(site, path), pageviews]
        for entry in entries:
            counts = pending_counts(entry.views)
            argv += [entry.entry_id, len(counts)]
            for field, count in counts.items():
                argv += [field, count]
        self.scripts.ack(keys=[self.keys.stream, self.keys.pending, self.keys.totals], args=argv)

    def _write(self, entries: Sequence[Entry], totals: dict[TotalKey, tuple[int, int]]) -> set[str]:
        # ``totals`` collects the pages' all-time counts read in the write's transaction
        # (a later write's reading is the fresher one).
        return write_batches(
            self.session_factory,
            [(e.batch_id, e.views) for e in entries if e.batch_id],
            self.ids,
            totals=totals,
        )

    def _write_apart(
        self,
        entries: Sequence[Entry],
        error: BaseException,
        totals: dict[TotalKey, tuple[int, int]],
    ) -> tuple[set[str], dict[str, BaseException]]:
        """``entries`` failed together for their data: write each half apart, recursing
        into a half that fails alike. Returns the batch ids counted and the error of
        each entry (by entry id) that failed alone."""
        if len(entries) == 1:
            return set(), {entries[0].entry_id: error}
        counted: set[str] = set()
        failed: dict[str, BaseException] = {}
        middle = len(entries) // 2
        for half in (entries[:middle], entries[middle:]):
            try:
                counted |= self._write(half, totals)
            except Exception as half_error:
                if not is_poison(half_error):
                    raise
                half_counted, half_failed = self._write_apart(half, half_error, totals)
                counted |= half_counted
                failed |= half_failed
        return counted, failed

    def _note_failures(self, entries: Sequence[Entry], failed: dict[str, BaseException]) -> int:
        """Count a failed attempt of each entry; bury those out of attempts. Returns how
        many were buried."""
        buried = 0
        for entry in entries:
            error = failed.get(entry.entry_id)
            if error is None:
                continue
            message = str(error).splitlines()[0] if str(error) else type(error).__name__
            attempts = int(self.client.hincrby(self.keys.failures, entry.entry_id, 1))
            log.error(
                "flush: batch %s (entry %s) failed for its data, attempt %d of %d: %s",
                entry.batch_id,
                entry.entry_id,
                attempts,
                self.max_attempts,
                message,
            )
            if attempts >= self.max_attempts:
                self.dead_letters.bury(
                    entry.entry_id, entry.batch_id, entry.payload, entry.views, message
                )
                log.error("flush: batch %s moved to the dead letters", entry.batch_id)
                buried += 1
        return buried

    def flush_once(self, checkpoint: Checkpoint | None = None) -> FlushResult:
        """Take up to ``count`` entries, count them, acknowledge them (all but those
        whose own data failed to write, see the module docstring)."""
        point = checkpoint or (lambda _name: None)
        entries = self._claim()
        if not entries:
            return FlushResult()
        point("claimed")
        failed: dict[str, BaseException] = {}
        totals: dict[TotalKey, tuple[int, int]] = {}
        try:
            new = self._write(entries, totals)
        except Exception as error:
            if not is_poison(error):
                raise
            new, failed = self._write_apart(entries, error, totals)
        point("committed")
        done = [e for e in entries if e.entry_id not in failed]
        if done:
            self._ack(done, totals)
            if self.on_flushed is not None:
                self.on_flushed({view.site_id for entry in done for view in entry.views})
        point("acked")
        buried = self._note_failures(entries, failed) if failed else 0
        counted = {e.batch_id: len(e.views) for e in done if e.batch_id in new}
        return FlushResult(
            entries=len(entries),
            views=sum(counted.values()),
            duplicates=len([e for e in done if e.batch_id and e.batch_id not in new]),
            failed=len(failed) - buried,
            buried=buried,
        )

    def flush(self, max_seconds: float = 10.0, checkpoint: Checkpoint | None = None) -> FlushResult:
        """Flush until the stream is drained or ``max_seconds`` passed."""
        self.ensure_group()
        total = FlushResult()
        deadline = time.monotonic() + max_seconds
        while True:
            result = self.flush_once(checkpoint)
            total.entries += result.entries
            total.views += result.views
            total.duplicates += result.duplicates
            total.failed += result.failed
            total.buried += result.buried
            # A bad entry stays pending and would come first again: leave it to the
            # next flush rather than spend this one's attempts on it at once.
            if result.entries == 0 or result.failed or time.monotonic() >= deadline:
                self.forget_idle_consumers()
                return total

    def forget_idle_consumers(self) -> int:
        """Remove consumers of dead workers (nothing pending, idle for long); return how
        many. Each worker process is a consumer of its own, so they would pile up."""
        forgotten = 0
        consumers: Any = self.client.xinfo_consumers(self.keys.stream, GROUP)
        for consumer in consumers:
            name = consumer["name"]
            name = name.decode() if isinstance(name, bytes) else str(name)
            if (
                name != self.consumer
                and int(consumer["pending"]) == 0
                and int(consumer["idle"]) >= self.forget_consumers_after_ms
            ):
                self.client.xgroup_delconsumer(self.keys.stream, GROUP, name)
                forgotten += 1
        return forgotten

    def forget_old_batches(self, now: datetime | None = None) -> int:
        """Delete batch ids recorded more than a week ago (their stream entries are long
        gone); return how many."""
        cutoff = (now or datetime.now(UTC)).replace(tzinfo=None) - KEEP_FLUSHED_IDS
        with self.session_factory() as session, session.begin():
            result = session.execute(delete(FlushedBatch).where(FlushedBatch.flushed_at < cutoff))
        return int(result.rowcount)  # type: ignore[attr-defined]

    def backlog(self) -> int:
        """Entries in the stream (written, not yet flushed and deleted)."""
        return int(self.client.xlen(self.keys.stream))
