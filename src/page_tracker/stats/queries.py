"""Small read-side lookups over the rollups (the stats API's reads are in
:mod:`page_tracker.stats.report`)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from page_tracker.stats.models import Path


def site_paths(session: Session, site_id: str) -> list[str]:
    """Every path the site has statistics for."""
    return list(session.scalars(select(Path.path).where(Path.site_id == site_id)))
