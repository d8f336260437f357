"""What a caller may do with a site: the one place site access is decided.

Admins may do everything. Members see their sites; owners also change them and their
members. To anyone else a site does not exist (404), so site ids cannot be probed.

A browser that opened a live public share link of a site (``/dashboard/share/...``) may
read that site's statistics too: the link's id is kept in its session, and each read
checks again that the link is live (not revoked, not expired, sharing on).
"""

from __future__ import annotations

import re

from flask import session as browser_session
from sqlalchemy.orm import Session

from page_tracker.auth import access
from page_tracker.auth.access import SiteRef
from page_tracker.auth.principal import Principal, current_principal, require
from page_tracker.auth.tokens import Scope
from page_tracker.errors import Forbidden, NotFound
from page_tracker.sites.models import SITE_ID_LENGTH, Site
from page_tracker.sites.services import get_site
from page_tracker.sites.shares import live_share_site
from page_tracker.users.memberships import member_role
from page_tracker.users.models import MemberRole

_SITE_ID = re.compile(rf"[a-z0-9]{{{SITE_ID_LENGTH}}}")
_SHARES = "shares"  # the browser session's key: ids of the share links it opened
MAX_REMEMBERED_SHARES = 20


def site_for(session: Session, principal: Principal, site_id: str, *, manage: bool) -> Site:
    """The site, if the caller may see it (``manage``: and change it)."""
    site = get_site(session, site_id) if _SITE_ID.fullmatch(site_id) else None
    if site is None:
        raise NotFound(f"no site {site_id}")
    if principal.user.is_admin:
        return site
    role = member_role(session, site_id, principal.user.id)
    if role is None:
        raise NotFound(f"no site {site_id}")
    if manage and role is not MemberRole.OWNER:
        raise Forbidden("only the site's owners may change it")
    return site


def member_site(session: Session, principal: Principal, site_id: str) -> SiteRef:
    """What :func:`site_for` (``manage=False``) decides, from the access cache on a read
    (:mod:`page_tracker.auth.access`), else from the database."""
    if not _SITE_ID.fullmatch(site_id):
        raise NotFound(f"no site {site_id}")
    found = access.site(session, site_id)
    if found is not None:
        if principal.user.is_admin:
            return found
        held = access.roles(session, principal.user.id)
        if held is not None:
            if site_id not in held:
                raise NotFound(f"no site {site_id}")
            return found
    site = site_for(session, principal, site_id, manage=False)
    return SiteRef(site.id, site.domain)


def site_role(session: Session, principal: Principal, site_id: str) -> MemberRole | None:
    return member_role(session, site_id, principal.user.id)


def remember_share(share_id: int) -> None:
    """Let this browser read the site of share link ``share_id`` (it opened the link)."""
    opened = [known for known in browser_session.get(_SHARES, []) if known != share_id]
    browser_session[_SHARES] = [*opened[-(MAX_REMEMBERED_SHARES - 1) :], share_id]


def _shared_site(session: Session, site_id: str) -> Site | None:
    for share_id in browser_session.get(_SHARES, []):
        if isinstance(share_id, int) and (site := live_share_site(session, share_id, site_id)):
            return site
    return None


def readable_site(session: Session, site_id: str) -> SiteRef:
    """The site whose statistics the caller reads: a member's or an admin's (with the
    ``read`` scope), or one whose live share link this browser opened. :class:`NotFound`
    or :class:`~page_tracker.errors.Unauthorized` otherwise."""
    if current_principal() is not None:
        try:
            return member_site(session, require(Scope.READ), site_id)
        except NotFound:
            if (shared := _shared_site(session, site_id)) is None:
                raise
            return SiteRef(shared.id, shared.domain)
    shared = _shared_site(session, site_id)
    if shared is None:
        require(Scope.READ)  # raises: no credential
        raise NotFound(f"no site {site_id}")
    return SiteRef(shared.id, shared.domain)
