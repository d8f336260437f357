"""The statistics' reads through the cache (:mod:`page_tracker.cache`), and what a
write drops from it.

- ``counters``: a site's and a page's all-time counters for ``/api/v1/counters`` and
  the badge, kept ``CACHE_COUNTERS_TTL`` seconds in the process (local only) in Redis
  mode; in embedded mode the counter reader is already the process's cache (kept
  exact by the group-commit writer), so the node is off there;
- ``summary`` / ``breakdown``: the reports of the stats API and of the dashboard's site
  page (:func:`summary`, :func:`breakdown`: one key for both), ``CACHE_REPORT_TTL``
  seconds, keyed by their whole query (local, then Redis in Redis mode: one process's
  query serves the others, and one process at a time runs it);
- ``watermark``: the latest hour a site's rollups count (the stats API's freshness,
  ``Last-Modified``), ``CACHE_REPORT_TTL`` seconds like the reports it goes with: a
  write drops it with them, so it is never older than the numbers beside it.

Every entry is grouped by its site: :func:`invalidate_sites` drops a site's entries
after a rollup write (group commit, flush), an import or an import's deletion. The
local storage of *other* processes cannot be reached from here: they see the change
when their entries expire (the TTLs are short for that reason).

Busuanzi does not read through the ``counters`` node: its answer includes the hit of
the same request, which a TTL cache cannot promise; it reads the app's
:class:`~page_tracker.stats.counters.CounterReader`, whose own caches the writers keep
exact (:meth:`~page_tracker.stats.counters.CounterReader.forget` after an import).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TypeVar

from flask import Flask
from sqlalchemy.orm import Session

from page_tracker.cache import CACHE, LOCAL, Node, add_node
from page_tracker.redis_client import REDIS
from page_tracker.settings import SETTINGS
from page_tracker.stats import breakdowns, report
from page_tracker.stats.breakdowns import Breakdown
from page_tracker.stats.counters import COUNTERS, Counters
from page_tracker.stats.filters import Filter
from page_tracker.stats.live import LiveVisitors
from page_tracker.stats.ranges import Interval, Range
from page_tracker.stats.report import Summary

T = TypeVar("T")

# Local only: in Redis mode the reader's own answer is one Redis call, as a Redis
# storage's would be (plus its lock); the local storage saves that call.
COUNTERS_NODE: Node[Counters] = Node("counters", ttl=2.0, type_=Counters, storages=(LOCAL,))
SUMMARY_NODE: Node[Summary] = Node("summary", ttl=30.0, type_=Summary)
BREAKDOWN_NODE: Node[Breakdown] = Node("breakdown", ttl=30.0, type_=Breakdown)
WATERMARK_NODE: Node[datetime | None] = Node("watermark", ttl=30.0, type_=datetime | None)
# What a write of a site's statistics changes (other nodes are grouped otherwise).
SITE_NODES = (COUNTERS_NODE, SUMMARY_NODE, BREAKDOWN_NODE, WATERMARK_NODE)


def init_app(app: Flask) -> None:
    settings = SETTINGS.get(app)
    # Embedded mode's counter reader is itself an in-process cache that the writer
    # keeps exact (no TTL): a node in front of it would only cost time (bench/README).
    embedded = REDIS.find(app) is None
    add_node(app, COUNTERS_NODE, 0 if embedded else settings.cache_counters_ttl)
    add_node(app, SUMMARY_NODE, settings.cache_report_ttl)
    add_node(app, BREAKDOWN_NODE, settings.cache_report_ttl)
    add_node(app, WATERMARK_NODE, settings.cache_report_ttl)


def read_counters(site_id: str, path: str) -> Counters:
    """The all-time counters of ``site_id`` and ``path``, cached for a short while."""
    return CACHE.get().get(COUNTERS_NODE, site_id, path, lambda: COUNTERS.get().read(site_id, path))


def through_cache(node: Node[T], site_id: str, query: object, load: Callable[[], T]) -> T:
    """``load()`` (a report of ``site_id``), cached under ``node`` by ``repr(query)``:
    ``query`` holds every argument the report depends on (frozen dataclasses, strings,
    numbers: their ``repr`` is stable)."""
    detail = hashlib.blake2b(repr(query).encode(), digest_size=16).hexdigest()
    return CACHE.get().get(node, site_id, detail, load)


def summary(
    session: Session,
    site_id: str,
    rng: Range,
    interval: Interval,
    where: Filter | None = None,
) -> Summary:
    """:func:`page_tracker.stats.report.summary` through the ``summary`` node."""
    where = where or Filter()
    return through_cache(
        SUMMARY_NODE,
        site_id,
        ("summary", rng, interval, where),
        lambda: report.summary(session, site_id, rng, interval, where),
    )


def breakdown(
    session: Session,
    site_id: str,
    rng: Range,
    name: str,
    *,
    limit: int = 10,
    offset: int = 0,
    campaign_field: str = "campaign",
    search: str | None = None,
    where: Filter | None = None,
) -> Breakdown:
    """:func:`page_tracker.stats.breakdowns.breakdown` through the ``breakdown`` node."""
    where = where or Filter()
    return through_cache(
        BREAKDOWN_NODE,
        site_id,
        ("breakdown", rng, name, limit, offset, campaign_field, search, where),
        lambda: breakdowns.breakdown(
            session,
            site_id,
            rng,
            name,
            limit=limit,
            offset=offset,
            campaign_field=campaign_field,
            search=search,
            where=where,
        ),
    )


def freshness(session: Session, site_id: str, live: LiveVisitors) -> report.Freshness:
    """:func:`page_tracker.stats.report.freshness` with the latest counted hour through
    the ``watermark`` node (the page views waiting for a flush are read each time)."""
    last = CACHE.get().get(
        WATERMARK_NODE, site_id, "", lambda: report.last_counted_hour(session, site_id)
    )
    return report.Freshness(live.unflushed_pageviews(site_id), last)


def invalidate_sites(site_ids: Iterable[str], app: Flask | None = None) -> None:
    """Drop the cached reads of these sites (after their statistics changed)."""
    manager = CACHE.find(app)
    if manager is not None:
        manager.invalidate(site_ids, SITE_NODES)


def forget_sites(site_ids: Iterable[str], app: Flask | None = None) -> None:
    """After an import or its deletion (counts may have gone down): drop the sites'
    cached reads *and* the counter reader's own cache of their totals."""
    chosen = set(site_ids)
    invalidate_sites(chosen, app)
    reader = COUNTERS.find(app)
    if reader is not None:
        for site_id in chosen:
            reader.forget(site_id)
