"""``/dashboard/sites/{id}/settings``: a site's hosts, options, members, embed snippets and
share links. Owners (and admins) change them from the page's script through the sites,
members and shares API (with the session's CSRF token); viewers see them read-only;
anyone else finds no such site (404)."""

from __future__ import annotations

from flask import Blueprint, request

from page_tracker.auth.permissions import site_for
from page_tracker.dashboard.pages import page, signed_in, strict_headers
from page_tracker.dashboard.snippets import snippets
from page_tracker.db import get_session
from page_tracker.errors import NotFound
from page_tracker.sites import shares
from page_tracker.sites.services import allowed_hosts
from page_tracker.users.memberships import member_role, members
from page_tracker.users.models import MemberRole

blueprint = Blueprint("dashboard_settings", __name__, url_prefix="/dashboard")
blueprint.after_request(strict_headers)


@blueprint.get("/sites/<site_id>/settings")
def settings(site_id: str) -> tuple[str, int]:
    principal = signed_in()
    if principal is None:
        return page("sign_in.html", 401)
    session = get_session()
    try:
        site = site_for(session, principal, site_id, manage=False)
    except NotFound:
        return page("not_found.html", 404, user=principal.user)
    role = member_role(session, site.id, principal.user.id)
    manage = principal.user.is_admin or role is MemberRole.OWNER
    return page(
        "settings.html",
        user=principal.user,
        site=site,
        manage=manage,
        hosts=sorted(host.host for host in site.hosts),
        allowed=sorted(allowed_hosts(site)),
        members=members(session, site.id),
        roles=list(MemberRole),
        links=[(link, shares.state_of(link, site)) for link in shares.list_shares(session, site.id)]
        if manage
        else [],
        snippets=snippets(site, request.host_url.rstrip("/")),
    )
