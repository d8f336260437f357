"""``/dashboard/``: sign in, the sites list and a site's page.

Signing in and out is ``POST``/``DELETE /api/v1/session`` from the page's script (the
auth feature's one sign-in path, with its CSRF token and failed sign-in limits); the
pages read the session it sets. The numbers come from :mod:`page_tracker.stats.report`
(the stats API's service); the chart fetches the stats API itself.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import Blueprint, request, url_for
from flask_babel import lazy_gettext as _l

from page_tracker.auth.permissions import site_for
from page_tracker.dashboard import ranges
from page_tracker.dashboard.pages import page as _page
from page_tracker.dashboard.pages import signed_in as _principal
from page_tracker.dashboard.pages import strict_headers
from page_tracker.db import get_session
from page_tracker.errors import NotFound, Unprocessable
from page_tracker.sites.models import Site
from page_tracker.stats import report
from page_tracker.users.memberships import visible_sites
from page_tracker.users.models import User

blueprint = Blueprint(
    "dashboard",
    __name__,
    url_prefix="/dashboard",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

TABLES = (
    ("pages", _l("Top pages")),
    ("referrers", _l("Referrers")),
    ("browsers", _l("Browsers")),
    ("countries", _l("Countries")),
)
TABLE_ROWS = 10


blueprint.after_request(strict_headers)


@dataclass(frozen=True, slots=True)
class SiteRow:
    site: Site
    totals: report.Totals


@blueprint.get("/")
def index() -> tuple[str, int]:
    principal = _principal()
    if principal is None:
        return _page("sign_in.html")
    session = get_session()
    today = datetime.now(UTC).date()
    rng = report.make_range(today - timedelta(days=29), today, "UTC", report.Interval.DAY)
    rows = [
        SiteRow(site, report.summary(session, site.id, rng, report.Interval.DAY).totals)
        for site in visible_sites(session, principal.user)
    ]
    return _page("sites.html", user=principal.user, rows=rows)


@blueprint.get("/sites/<site_id>")
def site_page(site_id: str) -> tuple[str, int]:
    principal = _principal()
    if principal is None:
        return _page("sign_in.html", 401)
    session = get_session()
    try:
        site = site_for(session, principal, site_id, manage=False)
    except NotFound:
        return _page("not_found.html", 404, user=principal.user)
    return render_site(site, user=principal.user)


def render_site(site: Site, *, user: User | None, share: str | None = None) -> tuple[str, int]:
    """A site's page for a member (``user``), or read-only for whoever holds the public
    share link ``share`` (no settings, no snippets; its links stay on the share link)."""
    if share is None:
        site_url = functools.partial(url_for, "dashboard.site_page", site_id=site.id)
    else:
        site_url = functools.partial(url_for, "dashboard_share.shared", token=share)
    session = get_session()
    try:
        chosen = ranges.choose(request.args)
        rng = report.make_range(chosen.start, chosen.end, "UTC", report.Interval(chosen.interval))
    except Unprocessable as error:
        return _page(
            "bad_range.html", 422, user=user, site=site, site_url=site_url, message=error.message
        )
    found = report.summary(session, site.id, rng, report.Interval.DAY)
    tables = [
        (title, report.breakdown(session, site.id, rng, kind, limit=TABLE_ROWS))
        for kind, title in TABLES
    ]
    return _page(
        "site.html",
        user=user,
        site=site,
        share=share,
        site_url=site_url,
        chosen=chosen,
        presets=ranges.PRESETS,
        found=found,
        change=report.change(found),
        tables=tables,
        tracker=request.host_url.rstrip("/"),
    )


@blueprint.get("/<path:unknown>")
def not_found(unknown: str) -> tuple[str, int]:
    """Any other dashboard address: the dashboard's own 404 page."""
    principal = _principal()
    return _page("not_found.html", 404, user=principal.user if principal else None)
