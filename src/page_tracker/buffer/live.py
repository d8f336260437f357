"""Redis mode's live visitors: ``P live:SITE``, a sorted set of the daily visitor hashes
seen in the last five minutes, scored by the moment of their latest view; and the
site's page views waiting for the flush (``P pending``).

The sink adds each batch's visitors in the round trip that makes the batch durable;
entries older than the window are trimmed on every write and read, and an idle site's
key expires.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

import redis

from page_tracker.buffer.redis_keys import RedisKeys, site_field
from page_tracker.redis_client import carried, read_along
from page_tracker.stats.live import WINDOW_SECONDS
from page_tracker.stats.pageview import PageView

log = logging.getLogger(__name__)


class RedisLiveVisitors:
    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.client = client
        self.keys = RedisKeys(prefix)

    def commands(
        self, views: Sequence[PageView], now: float | None = None
    ) -> list[tuple[str | bytes | float, ...]]:
        """The commands that record the views' visitors (the sink sends them in the
        round trip that makes the batch durable)."""
        now = time.time() if now is None else now
        by_site: dict[str, dict[bytes, float]] = {}
        for view in views:
            seen = by_site.setdefault(view.site_id, {})
            moment = view.timestamp.timestamp()
            if seen.get(view.visitor, 0.0) < moment:
                seen[view.visitor] = moment
        commands: list[tuple[str | bytes | float, ...]] = []
        for site_id, seen in by_site.items():
            key = self.keys.live(site_id)
            scored: list[str | bytes | float] = []
            for visitor, moment in seen.items():
                scored += [moment, visitor]
            commands += [
                ("ZADD", key, *scored),
                ("ZREMRANGEBYSCORE", key, "-inf", f"({now - WINDOW_SECONDS}"),
                ("EXPIRE", key, WINDOW_SECONDS * 2),
            ]
        return commands

    def count(self, site_id: str, now: float | None = None) -> int | None:
        """The site's live visitors; ``None`` when Redis fails (the answer says unknown
        rather than failing)."""
        now = time.time() if now is None else now
        key = self.keys.live(site_id)
        pipe = self.client.pipeline(transaction=False)
        pipe.zremrangebyscore(key, "-inf", f"({now - WINDOW_SECONDS}")
        pipe.zcard(key)
        try:
            return int(pipe.execute()[1])
        except redis.RedisError as error:
            log.warning("live visitors unknown: %s", error)
            return None

    def read_ahead(self, site_id: str) -> None:
        """Have the request's epoch read carry :meth:`unflushed_pageviews`'s ``HGET``."""
        read_along(self.keys.pending, site_field(site_id))

    def unflushed_pageviews(self, site_id: str) -> int | None:
        field = site_field(site_id)
        known, waiting = carried(self.keys.pending, field)
        if known:
            return int(waiting or 0)
        try:
            waiting = self.client.hget(self.keys.pending, field)
        except redis.RedisError as error:
            log.warning("unflushed page views unknown: %s", error)
            return None
        return int(waiting or 0)
