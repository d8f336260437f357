"""All-time counters of a site and a page, for the Busuanzi, counters and badge endpoints."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
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

    The group-commit writer reads the totals of its batch's cached pages in its own
    transaction (:meth:`cached_pages`) and caches them after the commit
    (:meth:`committed`), so a Busuanzi answer includes its own hit. An entry lives
    ``ttl`` seconds from its load: hits another process wrote (several web processes on
    one database), or totals that went down (an import deleted by the CLI), show within
    ``ttl`` seconds, and at once in this process (:meth:`forget`).

    A reader's load races the writer's commits: a total read just before a commit but
    stored just after it would miss that commit's hits for good (the writer adds to
    what it finds). So a load is stored only when no commit started or ended while it
    ran (:meth:`committing` marks the start; ``_version`` counts both); otherwise it
    answers the request, uncached, and the next read tries again. Thread-safe; the read
    of fresh entries takes no lock.
    """

    MAX_ENTRIES = 100_000  # bound memory against random paths

    def __init__(
        self,
        database: DatabaseCounterReader,
        ttl: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.database = database
        self.ttl = ttl
        self.clock = clock
        self._entries: dict[TotalKey, tuple[float, int, int]] = {}
        self._lock = threading.Lock()
        self._version = 0  # +1 at each commit's start and end, and at each forget
        self._committing = False
        self._forgets = 0

    def read(self, site_id: str, path: str) -> Counters:
        now = self.clock()
        site = self._entries.get((site_id, None))
        page = self._entries.get((site_id, path))
        if site is not None and page is not None and site[0] > now and page[0] > now:
            return Counters(site[1], site[2], page[1], page[2])
        version = self._version  # before the query: see the class's docstring
        found = self.database.read(site_id, path)
        loaded = {
            (site_id, None): (found.site_pv, found.site_uv),
            (site_id, path): (found.page_pv, found.page_uv),
        }
        with self._lock:
            if version == self._version and not self._committing:
                self._put(loaded, now + self.ttl)
        return found

    def _put(self, totals: Mapping[TotalKey, tuple[int, int]], expires: float) -> None:
        """Cache ``totals`` (caller holds ``_lock``)."""
        if len(self._entries) + len(totals) > self.MAX_ENTRIES:
            self._entries.clear()
        for key, (pageviews, visitors) in totals.items():
            self._entries[key] = (expires, pageviews, visitors)

    def fresh(self) -> dict[TotalKey, tuple[int, int]]:
        """The entries a read answers from now, without a query (tests, diagnostics)."""
        now = self.clock()
        entries = list(self._entries.items())
        return {key: (pv, uv) for key, (expires, pv, uv) in entries if expires > now}

    # -- the writer's side (one write at a time per process: the group commit's leader)

    @property
    def forgets(self) -> int:
        """How many times :meth:`forget` ran; the writer notes it before its transaction."""
        return self._forgets

    def cached_pages(self, pages: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
        """The ``(site, path)`` pages whose site or page entry is cached: the writer reads
        their totals in its transaction (a page never read, cached under neither, costs
        nothing). Fresh entries too: with several web processes on one database, another
        process's commits are not in this process's entries, and adding this batch's
        deltas to such an entry gave a wrong pair (a browser test on 2 workers saw
        ``page_pv`` 1 with ``page_uv`` 0), so the writer reads what it caches."""
        entries = self._entries
        cached: set[tuple[str, str]] = set()
        for site_id, path in pages:
            if (site_id, None) in entries or (site_id, path) in entries:
                cached.add((site_id, path))
        return cached

    def committing(self) -> None:
        """The writer's transaction commits now: loads running meanwhile are not stored."""
        with self._lock:
            self._committing = True
            self._version += 1

    def committed(
        self,
        added: Mapping[TotalKey, tuple[int, int]],
        totals: Mapping[TotalKey, tuple[int, int]],
        forgets: int,
    ) -> None:
        """The commit is done: cache ``totals`` (read in its transaction) and add
        ``added`` (what it added) to the other cached entries. ``forgets`` is
        :attr:`forgets` before the transaction began; a :meth:`forget` since then
        may have dropped what the transaction read, so its keys are dropped instead."""
        with self._lock:
            entries = self._entries
            if forgets != self._forgets:
                for key in (*added, *totals):
                    entries.pop(key, None)
            else:
                self._put(totals, self.clock() + self.ttl)
                for key, (pageviews, visitors) in added.items():
                    entry = entries.get(key)
                    if entry is not None and key not in totals:
                        entries[key] = (entry[0], entry[1] + pageviews, entry[2] + visitors)
            self._committing = False
            self._version += 1

    def abandoned(self) -> None:
        """The transaction failed (rolled back): nothing to add."""
        with self._lock:
            self._committing = False
            self._version += 1

    def forget(self, site_id: str) -> None:
        with self._lock:
            for key in [key for key in self._entries if key[0] == site_id]:
                del self._entries[key]
            self._forgets += 1
            self._version += 1
