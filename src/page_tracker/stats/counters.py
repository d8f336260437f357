"""All-time counters of a site and a page, for the Busuanzi, counters and badge endpoints."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

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


COUNTERS: Extension[CounterReader] = Extension(
    "page_tracker.counters", "the all-time counter reader (database, or database + Redis)"
)


class DatabaseCounterReader:
    """Reads the ``stat_totals`` rollup (one query)."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self.session_factory = session_factory

    def read(self, site_id: str, path: str) -> Counters:
        return self.read_with_imported(site_id, path)[0]

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
