"""All-time counters of a site and a page, for the Busuanzi, counters and badge endpoints."""

from __future__ import annotations

from collections.abc import Iterable
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


TotalKey = tuple[str, str | None]  # (site id, path); ``None``: the whole site


def read_totals(session: Session, pages: Iterable[tuple[str, str]]) -> dict[TotalKey, int]:
    """All-time page views of the given ``(site id, path)`` pages and of their sites,
    as committed (or as this session's transaction sees them). Rows that do not exist
    yet read 0. One query per 500 sites."""
    wanted = set(pages)
    sites = sorted({site for site, _ in wanted})
    found: dict[TotalKey, int] = {(site, None): 0 for site in sites}
    found.update(dict.fromkeys(wanted, 0))
    paths = sorted({path for _, path in wanted})
    for start in range(0, len(sites), 500):
        chunk = sites[start : start + 500]
        query = (
            select(Total.site_id, Path.path, Total.pageviews)
            .outerjoin(Path, Path.id == Total.path_id)
            .where(Total.site_id.in_(chunk))
            .where(or_(Total.path_id == SITE, Path.path.in_(paths)))
        )
        for site, path, pageviews in session.execute(query):
            key = (site, None) if path is None else (site, path)
            if key in found:
                found[key] = int(pageviews)
    return found


class DatabaseCounterReader:
    """Reads the ``stat_totals`` rollup (one query)."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self.session_factory = session_factory

    def read(self, site_id: str, path: str) -> Counters:
        page = select(Path.id).where(Path.site_id == site_id, Path.path == path)
        query = (
            select(Total.path_id, Total.pageviews, Total.visitors)
            .where(Total.site_id == site_id)
            .where(or_(Total.path_id == SITE, Total.path_id.in_(page.scalar_subquery())))
        )
        with self.session_factory() as session:
            rows = session.execute(query).all()
        site = next(((pv, uv) for pid, pv, uv in rows if pid == SITE), (0, 0))
        page_row = next(((pv, uv) for pid, pv, uv in rows if pid != SITE), (0, 0))
        return Counters(int(site[0]), int(site[1]), int(page_row[0]), int(page_row[1]))
