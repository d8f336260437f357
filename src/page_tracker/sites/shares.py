"""Public share links: a read-only view of one site's statistics for whoever holds the link.

A link reads ``/dashboard/share/pts_`` + 43 URL-safe characters (256 random bits). Only
its SHA-256 is stored (nothing to guess, so a fast hash is enough), with a short prefix
its owners recognise it by. A link works while it is not revoked, not expired and its
site has sharing turned on; turning sharing off stops every link of the site at once
(turning it on again revives those not revoked). Revoking keeps the row, so the page can
say "revoked" instead of "never existed".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy import DateTime, ForeignKey, Integer, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from page_tracker.db import Base
from page_tracker.errors import Conflict, NotFound
from page_tracker.secret_tokens import could_be, digest, new_secret
from page_tracker.sites.models import SITE_ID_LENGTH, Site

SHARE_PREFIX = "pts_"
SHOWN_PREFIX_LENGTH = len(SHARE_PREFIX) + 6
MAX_SHARE_LENGTH = 100
MAX_LABEL_LENGTH = 100


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime | None) -> datetime | None:
    # SQLite and MariaDB hand back naive datetimes for what was written in UTC.
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=UTC)


class ShareLink(Base):
    """One share link of a site (deleted with the site)."""

    __tablename__ = "share_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    site_id: Mapped[str] = mapped_column(
        String(SITE_ID_LENGTH), ForeignKey("sites.id", ondelete="CASCADE"), index=True
    )
    label: Mapped[str] = mapped_column(String(MAX_LABEL_LENGTH), nullable=False, default="")
    prefix: Mapped[str] = mapped_column(String(16), nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    # Who made it; no foreign key, so a link outlives its maker's account.
    created_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, default=_now
    )
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class State(StrEnum):
    """Why a link does (``live``) or does not show its site."""

    LIVE = "live"
    REVOKED = "revoked"
    EXPIRED = "expired"
    SHARING_OFF = "sharing_off"


@dataclass(frozen=True, slots=True)
class Opened:
    """A link that exists, its site and its state."""

    link: ShareLink
    site: Site
    state: State


def expires_at(link: ShareLink) -> datetime | None:
    return _aware(link.expires_at)


def created_at(link: ShareLink) -> datetime:
    return _aware(link.created_at) or _now()


def state_of(link: ShareLink, site: Site, now: datetime | None = None) -> State:
    now = now or _now()
    if link.revoked_at is not None:
        return State.REVOKED
    ends = expires_at(link)
    if ends is not None and ends <= now:
        return State.EXPIRED
    return State.LIVE if site.sharing else State.SHARING_OFF


def create_share(
    session: Session,
    site: Site,
    *,
    label: str = "",
    expires_in: timedelta | None = None,
    created_by: int | None = None,
) -> tuple[ShareLink, str]:
    """A new link for ``site`` and its clear token, which is kept nowhere (flushes).
    :class:`Conflict` when the site has sharing turned off."""
    if not site.sharing:
        raise Conflict("turn sharing on for the site first")
    clear = new_secret(SHARE_PREFIX)
    link = ShareLink(
        site_id=site.id,
        label=label,
        prefix=clear[:SHOWN_PREFIX_LENGTH],
        token_hash=digest(clear),
        created_by=created_by,
        expires_at=_now() + expires_in if expires_in is not None else None,
    )
    session.add(link)
    session.flush()
    return link, clear


def list_shares(session: Session, site_id: str) -> Sequence[ShareLink]:
    """The site's links that are not revoked (expired ones too: they show as expired)."""
    return session.scalars(
        select(ShareLink)
        .where(ShareLink.site_id == site_id, ShareLink.revoked_at.is_(None))
        .order_by(ShareLink.id)
    ).all()


def revoke_share(session: Session, site_id: str, share_id: int) -> None:
    """Revoke one of the site's links for good (flushes); :class:`NotFound` for a link
    that is not the site's or already revoked."""
    link = session.get(ShareLink, share_id)
    if link is None or link.site_id != site_id or link.revoked_at is not None:
        raise NotFound(f"no share link {share_id} on site {site_id}")
    link.revoked_at = _now()
    session.flush()


def open_share(session: Session, clear: str) -> Opened | None:
    """The link with this clear token, its site and state; ``None`` when there is none."""
    if not could_be(clear, SHARE_PREFIX, MAX_SHARE_LENGTH):
        return None
    row = session.execute(
        select(ShareLink, Site)
        .join(Site, Site.id == ShareLink.site_id)
        .where(ShareLink.token_hash == digest(clear))
    ).first()
    if row is None:
        return None
    link, site = row
    return Opened(link, site, state_of(link, site))


def live_share_site(session: Session, share_id: int, site_id: str) -> Site | None:
    """The site, when link ``share_id`` is one of its live links (a browser that opened
    the link reads the site's statistics by it)."""
    link = session.get(ShareLink, share_id)
    if link is None or link.site_id != site_id:
        return None
    site = session.get(Site, site_id)
    if site is None or state_of(link, site) is not State.LIVE:
        return None
    return site


def forget_site(session: Session, site_id: str) -> None:
    """Delete a site's links (run when the site is deleted; see ``feature``)."""
    session.execute(delete(ShareLink).where(ShareLink.site_id == site_id))
