"""``/dashboard/share/{token}``: a site's page, read-only, for whoever holds a live public
share link (signed in or not). The page is the site page itself (``views.render_site``);
its script reads the stats API, which lets this browser read the site once it opened the
link (``auth.permissions.readable_site``). A revoked or expired link, or a site that
turned sharing off, gets a page saying so (410); an unknown one the 404 page."""

from __future__ import annotations

from flask import Blueprint

from page_tracker.auth.permissions import remember_share
from page_tracker.dashboard.pages import page, signed_in, strict_headers
from page_tracker.dashboard.views import render_site
from page_tracker.db import get_session
from page_tracker.sites.shares import State, open_share

blueprint = Blueprint("dashboard_share", __name__, url_prefix="/dashboard")
blueprint.after_request(strict_headers)


@blueprint.get("/share/<token>")
def shared(token: str) -> tuple[str, int]:
    principal = signed_in()
    user = principal.user if principal else None
    opened = open_share(get_session(), token)
    if opened is None:
        return page("share_gone.html", 404, user=user, state=None)
    if opened.state is not State.LIVE:
        return page("share_gone.html", 410, user=user, state=opened.state.value)
    remember_share(opened.link.id)
    return render_site(opened.site, user=user, share=token)
