"""What a caller may do with a site: the one place site access is decided.

Admins may do everything. Members see their sites; owners also change them and their
members. To anyone else a site does not exist (404), so site ids cannot be probed.
"""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from page_tracker.auth.principal import Principal
from page_tracker.errors import Forbidden, NotFound
from page_tracker.sites.models import SITE_ID_LENGTH, Site
from page_tracker.sites.services import get_site
from page_tracker.users.memberships import member_role
from page_tracker.users.models import MemberRole

_SITE_ID = re.compile(rf"[a-z0-9]{{{SITE_ID_LENGTH}}}")


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


def site_role(session: Session, principal: Principal, site_id: str) -> MemberRole | None:
    return member_role(session, site_id, principal.user.id)
