"""Who is a member of which site, with which role (``owner`` | ``viewer``).

A site may have no members (sites created with ``page-tracker sites create`` before
anyone is added; admins see every site); once it has an owner, its last owner cannot
leave or be demoted, so somebody can always manage it.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from page_tracker.errors import Conflict, NotFound
from page_tracker.sites.models import Site
from page_tracker.sites.services import list_sites
from page_tracker.users.models import MemberRole, SiteMember, User


def member_role(session: Session, site_id: str, user_id: int) -> MemberRole | None:
    """The user's role on the site, or ``None`` when they are not a member."""
    role = session.scalar(
        select(SiteMember.role).where(SiteMember.site_id == site_id, SiteMember.user_id == user_id)
    )
    return MemberRole(role) if role is not None else None


def visible_sites(session: Session, user: User) -> Sequence[Site]:
    """The sites a user may see: all for an admin, else those they are a member of."""
    if user.is_admin:
        return list_sites(session)
    return session.scalars(
        select(Site)
        .join(SiteMember, SiteMember.site_id == Site.id)
        .where(SiteMember.user_id == user.id)
        .order_by(Site.domain)
    ).all()


def members(session: Session, site_id: str) -> Sequence[tuple[User, MemberRole]]:
    """The site's members with their roles, by user id."""
    rows = session.execute(
        select(User, SiteMember.role)
        .join(SiteMember, SiteMember.user_id == User.id)
        .where(SiteMember.site_id == site_id)
        .order_by(User.id)
    ).all()
    return [(user, MemberRole(role)) for user, role in rows]


def set_member(session: Session, site_id: str, user: User, role: MemberRole) -> None:
    """Make ``user`` a member of the site with ``role`` (changing the role of a member);
    flushes. Demoting the last owner raises :class:`Conflict`."""
    membership = session.get(SiteMember, (site_id, user.id))
    if membership is None:
        session.add(SiteMember(site_id=site_id, user_id=user.id, role=MemberRole(role).value))
    else:
        if membership.role == MemberRole.OWNER and role != MemberRole.OWNER:
            _keep_an_owner(session, site_id)
        membership.role = MemberRole(role).value
    session.flush()


def remove_member(session: Session, site_id: str, user_id: int) -> None:
    """Remove a membership; :class:`NotFound` when there is none, :class:`Conflict` for
    the last owner."""
    membership = session.get(SiteMember, (site_id, user_id))
    if membership is None:
        raise NotFound(f"user {user_id} is not a member of site {site_id}")
    if membership.role == MemberRole.OWNER:
        _keep_an_owner(session, site_id)
    session.delete(membership)
    session.flush()


def _keep_an_owner(session: Session, site_id: str) -> None:
    owners = session.scalar(
        select(func.count()).where(
            SiteMember.site_id == site_id, SiteMember.role == MemberRole.OWNER.value
        )
    )
    if (owners or 0) <= 1:
        raise Conflict("a site keeps at least one owner")


def forget_site(session: Session, site_id: str) -> None:
    """Delete a site's memberships (run when the site is deleted; see ``feature``)."""
    session.execute(delete(SiteMember).where(SiteMember.site_id == site_id))
