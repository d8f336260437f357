"""All-time counters of a site and a page, for the Busuanzi, counters and badge endpoints."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from page_tracker.extensions import Extension
from page_tracker.stats.models import SITE, Path, Total


@dataclass(frozen=True, slots=True)
class Counters:
    site_pv: int = 0
    site_uv: int = 0
    page_pv: int = 0
    page_uv: int = 0


class CounterReader(Protocol):
    def read(self, site_id: str, path: str) -> Counters:
        """All-time page views and unique visitors of the site and of ``path``."""
        ...

    def forget(self, site_id: str) -> None:
        """Drop what this reader keeps of the site's totals: they changed other than
        by hits (an import, or its deletion, which lowers them)."""
        ...


@runtime_checkable
class CountsWithHits(Protocol):
    """A reader that has the counters of a page whose hit it just recorded at hand (Redis
    mode: the ingest script call returned them)."""

    def read_after_hit(self, site_id: str, path: str) -> Counters:
        """What :meth:`CounterReader.read` answers, just after a hit on ``path`` was
        recorded by this process."""
        ...


COUNTERS: Extension[CounterReader] = Extension(
    "page_tracker.counters", "the all-time counter reader (database, or database + Redis)"
)


TotalKey = tuple[str, str | None]  # (site id, path); ``None``: the whole site


def read_totals(
    session: Session, pages: Iterable[tuple[str, str]]
) -> dict[TotalKey, tuple[int, int]]:
    """All-time ``(page views, visitors)`` of the given ``(site id, path)`` pages and of
    their sites, as committed (or as this session's transaction sees them). Rows that
    do not exist yet read ``(0, 0)``. One query per 500 sites."""
    wanted = set(pages)
    sites = sorted({site for site, _ in wanted})
    found: dict[TotalKey, tuple[int, int]] = {(site, None): (0, 0) for site in sites}
    found.update(dict.fromkeys(wanted, (0, 0)))
    paths = sorted({path for _, path in wanted})
    for start in range(0, len(sites), 500):
        chunk = sites[start : start + 500]
        query = (
            select(Total.site_id, Path.path, Total.pageviews, Total.visitors)
            .outerjoin(Path, Path.id == Total.path_id)
            .where(Total.site_id.in_(chunk))
            .where(or_(Total.path_id == SITE, Path.path.in_(paths)))
        )
        for site, path, pageviews, visitors in session.execute(query):
            key = (site, None) if path is None else (site, path)
            if key in found:
                found[key] = (int(pageviews), int(visitors))
    return found


class DatabaseCounterReader:
    """Reads the ``stat_totals`` rollup (one query)."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self.session_factory = session_factory

    def read(self, site_id: str, path: str) -> Counters:
        return self.read_with_imported(site_id, path)[0]

    def forget(self, site_id: str) -> None:
        """Nothing kept: every read is a query."""

    def read_with_imported(self, site_id: str, path: str) -> tuple[Counters, int, int]:
        """The counters, and the site's and the page's imported visitors (part of the
        counters' uniques, without a visitor set behind them)."""
        page = select(Path.id).where(Path.site_id == site_id, Path.path == path)
        query = (
            select(Total.path_id, Total.pageviews, Total.visitors, Total.imported_visitors)
            .where(Total.site_id == site_id)
            .where(or_(Total.path_id == SITE, Total.path_id.in_(page.scalar_subquery())))
        )
        with self.session_factory() as session:
            rows = session.execute(query).all()
        site = next((row[1:] for row in rows if row[0] == SITE), (0, 0, 0))
        page_row = next((row[1:] for row in rows if row[0] != SITE), (0, 0, 0))
        counters = Counters(int(site[0]), int(site[1]), int(page_row[0]), int(page_row[1]))
        return counters, int(site[2]), int(page_row[2])


class CachedCounterReader:
    """Embedded mode's counter reader: the database's totals kept in-process.

    The group-commit writer reads the totals of the pages it just wrote in its own
    transaction and hands them to :meth:`raise_totals` before it acknowledges the
    hits, so a Busuanzi answer includes its own hit and a read after it costs no query.
    While an entry is fresh its values only rise (hits only add), so a read that raced
    a commit never hides it; an expired entry is replaced by what the database says,
    so totals that went down (an import deleted in another process) show within
    ``ttl`` seconds, and at once in this process (:meth:`forget`). Within one process
    the cache is exact; hits another process wrote (several web workers on one
    database) show within ``ttl`` seconds, when an entry is read from the database
    again. Thread-safe without locks on the read path.
    """

    def __init__(self, database: DatabaseCounterReader, ttl: float = 2.0) -> None:
        self.database = database
        self.ttl = ttl
        self._entries: dict[TotalKey, tuple[float, int, int]] = {}
        self._lock = threading.Lock()

    def _fresh(self, key: TotalKey, now: float) -> tuple[int, int] | None:
        entry = self._entries.get(key)
        return entry[1:] if entry is not None and entry[0] > now else None

    def read(self, site_id: str, path: str) -> Counters:
        now = time.monotonic()
        site, page = self._fresh((site_id, None), now), self._fresh((site_id, path), now)
        if site is None or page is None:
            found = self.database.read(site_id, path)
            cached = self.raise_totals(
                {
                    (site_id, None): (found.site_pv, found.site_uv),
                    (site_id, path): (found.page_pv, found.page_uv),
                },
                loaded=True,
            )
            site, page = cached[(site_id, None)], cached[(site_id, path)]
        return Counters(site[0], site[1], page[0], page[1])

    def wants(self, site_id: str, path: str) -> bool:
        """True when the writer should read this page's totals (its site or the page
        is cached here: an entry never read is not worth a query per batch)."""
        return (site_id, None) in self._entries or (site_id, path) in self._entries

    def raise_totals(
        self, totals: Mapping[TotalKey, tuple[int, int]], *, loaded: bool = False
    ) -> dict[TotalKey, tuple[int, int]]:
        """Take totals read from the database (never lowering a fresh cached one: a
        writer put it there after its commit; ``loaded``: a reader's load, which
        replaces an expired one); return the values now cached."""
        now = time.monotonic()
        expires = now + self.ttl
        cached: dict[TotalKey, tuple[int, int]] = {}
        with self._lock:
            if len(self._entries) > 100_000:  # bound memory against random paths
                self._entries.clear()
            for key, (pageviews, visitors) in totals.items():
                old = self._entries.get(key, (0.0, 0, 0))
                if loaded and old[0] <= now:
                    old = (0.0, 0, 0)
                cached[key] = (max(pageviews, old[1]), max(visitors, old[2]))
                self._entries[key] = (expires, *cached[key])
        return cached

    def forget(self, site_id: str) -> None:
        with self._lock:
            for key in [key for key in self._entries if key[0] == site_id]:
                del self._entries[key]
