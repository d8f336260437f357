"""``/dashboard/``: sign in, the sites list and a site's page.

Signing in and out is ``POST``/``DELETE /api/v1/session`` from the page's script (the
auth feature's one sign-in path, with its CSRF token and failed sign-in limits); the
pages read the session it sets. The numbers come from :mod:`page_tracker.stats.report`
(the stats API's service); the chart fetches the stats API itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

from flask import Blueprint, request, url_for
from markupsafe import Markup

from page_tracker.auth.access import SiteRef
from page_tracker.auth.permissions import member_site
from page_tracker.dashboard import filters, links, ranges, site_view, sparkline, tables
from page_tracker.dashboard.pages import page as _page
from page_tracker.dashboard.pages import signed_in as _principal
from page_tracker.dashboard.pages import strict_headers
from page_tracker.db import get_session
from page_tracker.errors import NotFound, Unprocessable
from page_tracker.sites.models import Site
from page_tracker.stats import cached, report
from page_tracker.stats.ranges import Interval, known_zones, make_range
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

blueprint.after_request(strict_headers)


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
    rng = make_range(today - timedelta(days=29), today, "UTC", Interval.DAY)
    rows = []
    for site in visible_sites(session, principal.user):
        found = cached.summary(session, site.id, rng, Interval.DAY)
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
        site = member_site(session, principal, site_id)
    except NotFound:
        return _page("not_found.html", 404, user=principal.user)
    return render_site(site, user=principal.user)


def render_site(
    site: Site | SiteRef, *, user: User | None, share: str | None = None
) -> tuple[str, int]:
    """A site's page for a member (``user``), or read-only for whoever holds the public
    share link ``share`` (no settings; its links stay on the share link)."""
    args = request.args.to_dict()

    if share is None:
        base = str(url_for("dashboard.site_page", site_id=site.id))
    else:
        base = str(url_for("dashboard_share.shared", token=share))

    def address(given: Mapping[str, str]) -> str:
        return links.with_query(base, given)

    def here(**changes: str | None) -> str:
        return address(links.changed(args, **changes))

    try:
        view = site_view.build(get_session(), site.id, request.args)
    except Unprocessable as error:
        # Two dimension filters: offer to keep either one (each link removes the other).
        names = error.names if isinstance(error, filters.TooMany) else []
        return _page(
            "bad_range.html",
            422,
            user=user,
            site=site,
            site_url=lambda: address({}),
            message=error.message,
            removals=[(name, args[name], here(**{name: None})) for name in names],
        )
    return _page(
        "site.html",
        user=user,
        site=site,
        share=share,
        view=view,
        presets=ranges.PRESETS,
        intervals=ranges.INTERVALS,
        zone_options=_zone_options(view.chosen.tz),
        tz_given="tz" in request.args,
        kept=links.kept(args),
        here=here,
        page_address=address({}),
        stats_url=links.stats_api(site.id, view.stats_query),
        csv_url=links.stats_api(site.id, view.stats_query, format="csv"),
        flag=tables.flag,
        tracker=request.host_url.rstrip("/"),
    )


@cache
def _zones() -> tuple[str, ...]:
    """The zones the picker offers: IANA's Area/Location names and UTC (not the legacy
    aliases such as ``EST5EDT`` or ``Etc/GMT+5``, which the URL still accepts)."""
    known = known_zones()
    return tuple(sorted({zone for zone in known if "/" in zone and zone[:4] != "Etc/"} | {"UTC"}))


_OPTION = Markup("<option>{}</option>")
_SELECTED = Markup("<option selected>{}</option>")


@cache
def _zone_list() -> tuple[frozenset[str], Markup]:
    return frozenset(_zones()), Markup("").join(_OPTION.format(zone) for zone in _zones())


def _zone_options(chosen: str) -> Markup:
    """The zone picker's options with ``chosen`` selected (added when it is not one of
    them): 420 options joined once, not rendered one by one on every page."""
    known, options = _zone_list()
    if chosen in known:
        return options.replace(_OPTION.format(chosen), _SELECTED.format(chosen), 1)
    return options + _SELECTED.format(chosen)


@blueprint.get("/<path:unknown>")
def not_found(unknown: str) -> tuple[str, int]:
    """Any other dashboard address: the dashboard's own 404 page."""
    principal = _principal()
    return _page("not_found.html", 404, user=principal.user if principal else None)
