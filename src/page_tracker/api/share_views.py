"""``/api/v1/sites/{id}/shares``: a site's public share links (owners and admins)."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, request

from page_tracker.api.share_schemas import ShareCreate, ShareCreated, ShareList, ShareOut
from page_tracker.auth.permissions import site_for
from page_tracker.auth.principal import require
from page_tracker.auth.tokens import Scope
from page_tracker.db import get_session
from page_tracker.json_api import ROW_ID, operation
from page_tracker.sites import shares
from page_tracker.sites.models import Site

blueprint = Blueprint("api_shares", __name__, url_prefix="/api/v1")

# Where the dashboard serves a link (dashboard.share_views); the API may not import it.
SHARE_PAGE = "/dashboard/share/"


def _share_out(link: shares.ShareLink, site: Site) -> ShareOut:
    return ShareOut(
        id=link.id,
        label=link.label,
        prefix=link.prefix,
        created_at=shares.created_at(link),
        expires_at=shares.expires_at(link),
        state=shares.state_of(link, site),
    )


@blueprint.get("/sites/<site_id>/shares")
@operation(
    "A site's share links that are not revoked (owners)",
    tag="shares",
    access="read",
    responses={200: ShareList},
    errors=(401, 403, 404),
)
def list_shares(site_id: str) -> ShareList:
    principal = require(Scope.READ)
    session = get_session()
    site = site_for(session, principal, site_id, manage=True)
    return ShareList([_share_out(link, site) for link in shares.list_shares(session, site.id)])


@blueprint.post("/sites/<site_id>/shares")
@operation(
    "Create a read-only share link (owners; the site must have sharing on)",
    tag="shares",
    access="write",
    body=ShareCreate,
    responses={201: ShareCreated},
    errors=(400, 401, 403, 404, 409, 413, 415),
)
def create_share(site_id: str, body: ShareCreate) -> tuple[ShareCreated, int]:
    principal = require(Scope.WRITE)
    session = get_session()
    site = site_for(session, principal, site_id, manage=True)
    days = body.expires_in_days
    link, clear = shares.create_share(
        session,
        site,
        label=body.label,
        expires_in=timedelta(days=days) if days is not None else None,
        created_by=principal.user.id,
    )
    session.commit()
    out = _share_out(link, site)
    url = f"{request.host_url.rstrip('/')}{SHARE_PAGE}{clear}"
    return ShareCreated(**out.model_dump(), token=clear, url=url), 201


@blueprint.delete(f"/sites/<site_id>/shares/<{ROW_ID}:share_id>")
@operation(
    "Revoke a share link for good (owners)",
    tag="shares",
    access="write",
    responses={204: None},
    errors=(401, 403, 404),
)
def revoke_share(site_id: str, share_id: int) -> None:
    principal = require(Scope.WRITE)
    session = get_session()
    site = site_for(session, principal, site_id, manage=True)
    shares.revoke_share(session, site.id, share_id)
    session.commit()
