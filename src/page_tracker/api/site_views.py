"""``/api/v1/sites`` and their members: the same services as ``page-tracker sites``."""

from __future__ import annotations

from flask import Blueprint
from sqlalchemy.orm import Session

from page_tracker.api.schemas import (
    MemberIn,
    MemberList,
    MemberOut,
    SiteCreate,
    SiteList,
    SiteOut,
    SiteUpdate,
)
from page_tracker.auth.permissions import site_for, site_role
from page_tracker.auth.principal import Principal, require
from page_tracker.auth.tokens import Scope
from page_tracker.db import get_session
from page_tracker.errors import NotFound, Unprocessable
from page_tracker.json_api import ROW_ID, operation
from page_tracker.sites import services as sites
from page_tracker.sites.models import Site
from page_tracker.users import memberships
from page_tracker.users.models import MemberRole
from page_tracker.users.services import find_user_by_email

blueprint = Blueprint("api_sites", __name__, url_prefix="/api/v1")

_READ_ERRORS = (401, 403, 404)
_WRITE_ERRORS = (400, 401, 403, 404, 409, 413, 415, 422)


def _site_out(session: Session, principal: Principal, site: Site) -> SiteOut:
    return SiteOut(
        id=site.id,
        domain=site.domain,
        hosts=sorted(host.host for host in site.hosts),
        allowed_hosts=sorted(sites.allowed_hosts(site)),
        public_counters=site.public_counters,
        honour_dnt=site.honour_dnt,
        retention_days=site.retention_days or 0,
        sharing=site.sharing,
        created_at=site.created_at,
        role=site_role(session, principal, site.id),
    )


@blueprint.get("/sites")
@operation(
    "Your sites (admins: all)",
    tag="sites",
    access="read",
    responses={200: SiteList},
    errors=(401, 403),
)
def list_sites() -> SiteList:
    principal = require(Scope.READ)
    session = get_session()
    visible = memberships.visible_sites(session, principal.user)
    return SiteList([_site_out(session, principal, site) for site in visible])


@blueprint.post("/sites")
@operation(
    "Create a site (you become its owner)",
    tag="sites",
    access="write",
    body=SiteCreate,
    responses={201: SiteOut},
    errors=(400, 401, 403, 409, 413, 415),
)
def create_site(body: SiteCreate) -> tuple[SiteOut, int]:
    principal = require(Scope.WRITE)
    session = get_session()
    site = sites.create_site(
        session,
        body.domain,
        body.hosts,
        public_counters=body.public_counters,
        honour_dnt=body.honour_dnt,
        retention_days=body.retention_days or None,
    )
    site.sharing = body.sharing
    memberships.set_member(session, site.id, principal.user, MemberRole.OWNER)
    session.commit()
    return _site_out(session, principal, site), 201


@blueprint.get("/sites/<site_id>")
@operation("A site", tag="sites", access="read", responses={200: SiteOut}, errors=_READ_ERRORS)
def get_site(site_id: str) -> SiteOut:
    principal = require(Scope.READ)
    session = get_session()
    return _site_out(session, principal, site_for(session, principal, site_id, manage=False))


@blueprint.patch("/sites/<site_id>")
@operation(
    "Change a site's hosts and options (owners)",
    tag="sites",
    access="write",
    body=SiteUpdate,
    responses={200: SiteOut},
    errors=_WRITE_ERRORS,
)
def update_site(site_id: str, body: SiteUpdate) -> SiteOut:
    principal = require(Scope.WRITE)
    session = get_session()
    site = site_for(session, principal, site_id, manage=True)
    current = {host.host for host in site.hosts}
    wanted = {sites.normalise_host(host) for host in body.hosts or ()}
    site = sites.update_site(
        session,
        site_id,
        public_counters=body.public_counters,
        honour_dnt=body.honour_dnt,
        retention_days=body.retention_days,
        sharing=body.sharing,
        add_hosts=wanted - current if body.hosts is not None else (),
        remove_hosts=current - wanted if body.hosts is not None else (),
    )
    session.commit()
    return _site_out(session, principal, site)


@blueprint.delete("/sites/<site_id>")
@operation(
    "Delete a site and all its statistics (owners)",
    tag="sites",
    access="write",
    responses={204: None},
    errors=_READ_ERRORS,
)
def delete_site(site_id: str) -> None:
    principal = require(Scope.WRITE)
    session = get_session()
    site_for(session, principal, site_id, manage=True)
    sites.delete_site(session, site_id, sites.SITE_CLEANUPS.get())
    session.commit()


@blueprint.get("/sites/<site_id>/members")
@operation(
    "A site's members",
    tag="members",
    access="read",
    responses={200: MemberList},
    errors=_READ_ERRORS,
)
def list_members(site_id: str) -> MemberList:
    principal = require(Scope.READ)
    session = get_session()
    site_for(session, principal, site_id, manage=False)
    return MemberList(
        [
            MemberOut(user_id=user.id, email=user.email, name=user.name, role=role)
            for user, role in memberships.members(session, site_id)
        ]
    )


@blueprint.post("/sites/<site_id>/members")
@operation(
    "Add a member, or change a member's role (owners)",
    tag="members",
    access="write",
    body=MemberIn,
    responses={201: MemberOut},
    errors=_WRITE_ERRORS,
)
def add_member(site_id: str, body: MemberIn) -> tuple[MemberOut, int]:
    principal = require(Scope.WRITE)
    session = get_session()
    site_for(session, principal, site_id, manage=True)
    user = find_user_by_email(session, body.email)
    if user is None:
        raise Unprocessable(f"no user with email {body.email.strip().lower()}")
    memberships.set_member(session, site_id, user, body.role)
    session.commit()
    return MemberOut(user_id=user.id, email=user.email, name=user.name, role=body.role), 201


@blueprint.delete(f"/sites/<site_id>/members/<{ROW_ID}:user_id>")
@operation(
    "Remove a member (owners)",
    tag="members",
    access="write",
    responses={204: None},
    errors=(401, 403, 404, 409),
)
def remove_member(site_id: str, user_id: int) -> None:
    principal = require(Scope.WRITE)
    session = get_session()
    site_for(session, principal, site_id, manage=True)
    if memberships.member_role(session, site_id, user_id) is None:
        raise NotFound(f"user {user_id} is not a member of site {site_id}")
    memberships.remove_member(session, site_id, user_id)
    session.commit()
