"""Small read-side lookups over the rollups (the stats API's reads are in
:mod:`page_tracker.stats.report`)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from page_tracker.stats.models import Dimension, Path


def site_paths(session: Session, site_id: str) -> list[str]:
    """Every path the site has statistics for."""
    return list(session.scalars(select(Path.path).where(Path.site_id == site_id)))


def path_id(session: Session, site_id: str, path: str) -> int | None:
    """The id of the site's ``path``, ``None`` when it has no statistics."""
    return session.scalar(select(Path.id).where(Path.site_id == site_id, Path.path == path))


def dimension_id(session: Session, kind: str, value: str) -> int | None:
    """The id of a dimension value (a ``country`` ``DE``), ``None`` when never counted."""
    return session.scalar(
        select(Dimension.id).where(Dimension.kind == kind, Dimension.value == value)
    )
