"""Visitors on a site right now: those seen in the last five minutes.

Redis mode answers from a sorted set per site that the Redis sink keeps
(:class:`page_tracker.buffer.live.RedisLiveVisitors`). Embedded mode has no store that
sees every process's hits as they come (the rollups count hours, and raw hits are never
read for statistics), so it answers ``None``: "not available here".
"""

from __future__ import annotations

from typing import Final, Protocol

from page_tracker.extensions import Extension

WINDOW_SECONDS: Final = 300


class LiveVisitors(Protocol):
    def count(self, site_id: str) -> int | None:
        """Distinct visitors of the site in the last :data:`WINDOW_SECONDS` (``None``:
        this mode cannot tell)."""
        ...


LIVE: Extension[LiveVisitors] = Extension(
    "page_tracker.live", "who is on a site right now (Redis mode), or nobody can tell"
)


class NoLiveVisitors:
    """Embedded mode's answer: unknown."""

    def count(self, site_id: str) -> None:
        return None
