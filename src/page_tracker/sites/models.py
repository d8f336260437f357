"""A site is one tracked domain with its public id, allowed hosts and options."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from page_tracker.db import Base

SITE_ID_LENGTH = 12
MAX_HOST_LENGTH = 253  # the longest DNS name


def _now() -> datetime:
    return datetime.now(UTC)


class Site(Base):
    """A tracked site. ``id`` is the public id used in snippets (``data-site``)."""

    __tablename__ = "sites"

    id: Mapped[str] = mapped_column(String(SITE_ID_LENGTH), primary_key=True)
    domain: Mapped[str] = mapped_column(String(MAX_HOST_LENGTH), nullable=False, unique=True)
    public_counters: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    honour_dnt: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    # Whether the site's public share links work (sites/shares.py).
    sharing: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # Days raw hits are kept; None: raw hits are not stored at all (rollups always are).
    retention_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, default=_now
    )

    hosts: Mapped[list[SiteHost]] = relationship(
        back_populates="site",
        cascade="all, delete-orphan",
        lazy="selectin",  # codespell:ignore selectin
    )


class SiteHost(Base):
    """An extra host name allowed to send hits for a site (besides domain and www.domain).

    A host belongs to at most one site, so a host always resolves to one site."""

    __tablename__ = "site_hosts"

    site_id: Mapped[str] = mapped_column(
        String(SITE_ID_LENGTH), ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True
    )
    host: Mapped[str] = mapped_column(String(MAX_HOST_LENGTH), primary_key=True, unique=True)

    site: Mapped[Site] = relationship(back_populates="hosts")
