"""Redis mode's key layout: the hit stream, pending counts, visitor sets.

Everything lives under ``REDIS_KEY_PREFIX`` (``P``):

``P hits``                    stream, one entry per written batch: ``id`` (a random batch
                              id, the idempotency key of the flush) and ``v`` (the views,
                              :mod:`page_tracker.buffer.batch_format`); consumer group
                              ``flush``.
``P hits:dead``               stream of dead letters: entries the flush failed to write
                              ``MAX_FLUSH_ATTEMPTS`` times for their own data (``id``,
                              ``v`` as above, ``error``, ``attempts``, ``entry``);
                              :mod:`page_tracker.buffer.dead_letters`.
``P hits:failures``           hash: stream entry id -> failed flush attempts so far.
``P pending``                 hash of page views written but not yet flushed:
                              ``s:SITE`` and ``p:SITE:PATH``.
``P totals``                  hash of the database's all-time page views, the same fields
                              as ``pending``: a cache, so that a counter read costs no
                              query; the flush raises it with the totals it read after
                              its commit, in the script that takes the flushed counts out
                              of ``pending`` (never lowered: totals only grow). Also
                              ``vs:SITE`` / ``vp:SITE:PATH``: the imported visitors of
                              the site or page (counted in its uniques, no visitor set
                              behind them). An import, or its deletion, drops the
                              site's fields (they are read again from the database).
``P uv:SITE[:PATHHASH]``      all-time visitors of a site or page: an exact set while it
                              has fewer than 1 000 members, then a HyperLogLog.
``P uvseed:SITE[:PATHHASH]``  set once the database's visitors were added to that key.
``P live:SITE``               sorted set: daily visitor hashes seen in the last five
                              minutes, scored by their latest view (expires when idle);
                              :mod:`page_tracker.buffer.live`.

Other features keep their own keys under the same prefix: ``P salt:DAY`` (the daily
salt, :mod:`page_tracker.ingest.salts`) and ``P counter:NAME`` (the seed page's counter,
:mod:`page_tracker.seedpage.store`).

The scripts that write these keys (:mod:`page_tracker.buffer.redis_scripts`) keep them
consistent: a batch enters the stream together with its counts, and leaves it together
with them.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from page_tracker.stats.pageview import PageView

GROUP = "flush"
EXACT_UNIQUES_BELOW = 1000
VISITOR_TTL = 14 * 86_400  # an idle page's visitor set leaves Redis (and is re-seeded)
SEED_TTL = 86_400  # shorter than VISITOR_TTL: a seed mark never outlives its set


def path_hash(path: str) -> str:
    return hashlib.blake2b(path.encode(), digest_size=8).hexdigest()


@dataclass(frozen=True)
class RedisKeys:
    """Key names under one prefix."""

    prefix: str

    @property
    def stream(self) -> str:
        return f"{self.prefix}hits"

    @property
    def dead_letters(self) -> str:
        return f"{self.prefix}hits:dead"

    @property
    def failures(self) -> str:
        return f"{self.prefix}hits:failures"

    @property
    def pending(self) -> str:
        return f"{self.prefix}pending"

    @property
    def totals(self) -> str:
        return f"{self.prefix}totals"

    def visitors(self, site_id: str, path: str | None = None) -> str:
        suffix = "" if path is None else f":{path_hash(path)}"
        return f"{self.prefix}uv:{site_id}{suffix}"

    def live(self, site_id: str) -> str:
        return f"{self.prefix}live:{site_id}"

    def seeded(self, site_id: str, path: str | None = None) -> str:
        suffix = "" if path is None else f":{path_hash(path)}"
        return f"{self.prefix}uvseed:{site_id}{suffix}"


def site_field(site_id: str) -> str:
    return f"s:{site_id}"


def page_field(site_id: str, path: str) -> str:
    return f"p:{site_id}:{path}"


def imported_site_field(site_id: str) -> str:
    return f"vs:{site_id}"


def imported_page_field(site_id: str, path: str) -> str:
    return f"vp:{site_id}:{path}"


def pending_counts(views: Iterable[PageView]) -> Counter[str]:
    """The ``pending`` fields a batch adds to (and its flush subtracts from)."""
    counts: Counter[str] = Counter()
    for view in views:
        counts[site_field(view.site_id)] += 1
        counts[page_field(view.site_id, view.path)] += 1
    return counts
