"""What the rollups do not know yet: visitors on a site right now (the last five
minutes) and page views received but not flushed.

Redis mode answers from Redis (:class:`page_tracker.buffer.live.RedisLiveVisitors`: a
sorted set per site that the Redis sink keeps, and the sink's pending counts). Embedded
mode writes every hit to the rollups before answering it, so nothing is unflushed; it
has no store that sees every process's hits as they come (the rollups count hours, and
raw hits are never read for statistics), so its live visitors are ``None``: unknown.
"""

from __future__ import annotations

from typing import Final, Protocol

from page_tracker.extensions import Extension

WINDOW_SECONDS: Final = 300


class LiveVisitors(Protocol):
    def count(self, site_id: str) -> int | None:
        """Distinct visitors of the site in the last :data:`WINDOW_SECONDS` (``None``:
        this mode, or a failing store, cannot tell)."""
        ...

    def read_ahead(self, site_id: str) -> None:
        """This request will ask :meth:`unflushed_pageviews`: read it along with the
        request's first Redis round trip if it can (Redis mode: the access epoch's)."""
        ...

    def unflushed_pageviews(self, site_id: str) -> int | None:
        """Page views of the site received but not in the rollups yet (``None``:
        unknown, the store failed)."""
        ...


LIVE: Extension[LiveVisitors] = Extension(
    "page_tracker.live", "live visitors and unflushed page views (Redis mode), or none"
)


class NoLiveVisitors:
    """Embedded mode's answers: live visitors unknown, nothing waiting."""

    def count(self, site_id: str) -> None:
        return None

    def read_ahead(self, site_id: str) -> None:
        return None

    def unflushed_pageviews(self, site_id: str) -> int:
        return 0
