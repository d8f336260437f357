"""``/dashboard/``: sign in, the sites list and a site's page.

Signing in and out is ``POST``/``DELETE /api/v1/session`` from the page's script (the
auth feature's one sign-in path, with its CSRF token and failed sign-in limits); the
pages read the session it sets. The numbers come from :mod:`page_tracker.stats.report`
(the stats API's service); the chart fetches the stats API itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

from flask import Blueprint, Response, render_template, request

from page_tracker.auth.permissions import site_for
from page_tracker.auth.principal import Principal, csrf_token, current_principal
from page_tracker.dashboard import links, ranges, site_view, sparkline, tables
from page_tracker.db import get_session
from page_tracker.errors import NotFound, Unauthorized, Unprocessable
from page_tracker.sites.models import Site
from page_tracker.stats import report
from page_tracker.users.memberships import visible_sites

blueprint = Blueprint(
    "dashboard",
    __name__,
    url_prefix="/dashboard",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

# Scripts and styles from this origin only (no inline code); nothing may frame a page.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)


@blueprint.after_request
def _strict_headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    if response.mimetype == "text/html":
        response.headers["Cache-Control"] = "private, no-store"
    return response


def _principal() -> Principal | None:
    """The signed-in user, or ``None`` (also when the session has ended)."""
    try:
        return current_principal()
    except Unauthorized:
        return None


def _page(template: str, status: int = 200, **context: object) -> tuple[str, int]:
    return render_template(f"dashboard/{template}", csrf_token=csrf_token(), **context), status


@dataclass(frozen=True, slots=True)
class SiteRow:
    site: Site
    totals: report.Totals
    sparkline: str  # SVG polyline points of the daily page views


@blueprint.get("/")
def index() -> tuple[str, int]:
    principal = _principal()
    if principal is None:
        return _page("sign_in.html")
    session = get_session()
    today = datetime.now(UTC).date()
    rng = report.make_range(today - timedelta(days=29), today, "UTC", report.Interval.DAY)
    rows = []
    for site in visible_sites(session, principal.user):
        found = report.summary(session, site.id, rng, report.Interval.DAY)
        line = sparkline.points([point.pageviews for point in found.series])
        rows.append(SiteRow(site, found.totals, line))
    return _page("sites.html", user=principal.user, rows=rows, sparkline=sparkline)


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
    try:
        view = site_view.build(session, site.id, request.args)
    except Unprocessable as error:
        return _page("bad_range.html", 422, user=principal.user, site=site, message=error.message)
    args = request.args.to_dict()
    return _page(
        "site.html",
        user=principal.user,
        site=site,
        view=view,
        presets=ranges.PRESETS,
        intervals=ranges.INTERVALS,
        zones=_zones(),
        tz_given="tz" in request.args,
        kept=links.kept(args),
        here=lambda **changes: links.site_page(site.id, args, **changes),
        stats_url=links.stats_api(site.id, view.stats_query),
        csv_url=links.stats_api(site.id, view.stats_query, format="csv"),
        flag=tables.flag,
        tracker=request.host_url.rstrip("/"),
    )


@cache
def _zones() -> tuple[str, ...]:
    """The zones the picker offers: IANA's Area/Location names and UTC (not the legacy
    aliases such as ``EST5EDT`` or ``Etc/GMT+5``, which the URL still accepts)."""
    known = report.known_zones()
    return tuple(sorted({zone for zone in known if "/" in zone and zone[:4] != "Etc/"} | {"UTC"}))


@blueprint.get("/<path:unknown>")
def not_found(unknown: str) -> tuple[str, int]:
    """Any other dashboard address: the dashboard's own 404 page."""
    principal = _principal()
    return _page("not_found.html", 404, user=principal.user if principal else None)
