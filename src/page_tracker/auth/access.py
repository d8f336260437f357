"""Cached answers about access for read requests (GET, HEAD): who a bearer token or a
browser session is, which sites exist and whose member a user is.

They go through the seed-002 cache (:mod:`page_tracker.cache`: the process, then Redis
in Redis mode), each keyed by the access epoch it was read in
(:mod:`page_tracker.auth.epoch`). A request reads the epoch once (in Redis mode from its
mirror in Redis, :mod:`page_tracker.auth.epoch_mirror`; else one row by key) and looks up
only that epoch's entries: after a token is revoked, a member removed, a user
deleted or a password changed, the very next request of any process reads a new epoch,
finds nothing cached under it and asks the database. Old epochs' entries are never read
again and leave with their TTL (``CACHE_ACCESS_TTL``) or the LRU.

What is *not* cached: unknown tokens, users and sites (a loader that finds nothing
raises, so nothing is stored and random ids cannot fill the cache), and every unsafe
request (a change is always authorised from the database). Token expiry and the hourly
record of a token's use are checked on every request from the cached entry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from flask import Flask, g, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from page_tracker.auth import epoch
from page_tracker.auth.epoch_mirror import EPOCH_MIRROR
from page_tracker.auth.tokens import MAX_TOKEN_LENGTH, TOKEN_PREFIX, token_and_user
from page_tracker.cache import CACHE, Node, add_node
from page_tracker.secret_tokens import could_be, digest
from page_tracker.sites.models import Site
from page_tracker.users.models import SiteMember, User

T = TypeVar("T")
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class NotCached(Exception):
    """The loader found nothing to cache (unknown, gone): ask the database path."""


@dataclass(frozen=True, slots=True)
class Account:
    """What a request needs of a user (never the password hash: its mark only)."""

    id: int
    email: str
    name: str
    role: str
    password_mark: str

    def user(self) -> User:
        """A detached :class:`User` with these values (for reading, not for a session)."""
        return User(id=self.id, email=self.email, name=self.name, role=self.role)


@dataclass(frozen=True, slots=True)
class Grant:
    """A live token as its requests need it."""

    token_id: int
    scopes: str  # "read,write"
    expires_at: datetime
    last_used_at: datetime | None
    account: Account


@dataclass(frozen=True, slots=True)
class SiteRef:
    """A site as the pages that read its statistics need it."""

    id: str
    domain: str


GRANT_NODE: Node[Grant] = Node("access-token", ttl=300.0, type_=Grant)
ACCOUNT_NODE: Node[Account] = Node("access-user", ttl=300.0, type_=Account)
ROLES_NODE: Node[dict[str, str]] = Node("access-roles", ttl=300.0, type_=dict[str, str])
SITE_NODE: Node[SiteRef] = Node("access-site", ttl=300.0, type_=SiteRef)
NODES = (GRANT_NODE, ACCOUNT_NODE, ROLES_NODE, SITE_NODE)


def init_app(app: Flask, ttl: float) -> None:
    for node in NODES:
        add_node(app, node, ttl)


def _aware(moment: datetime) -> datetime:
    # SQLite and MariaDB hand back naive datetimes for what was written in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def current_epoch(session: Session) -> int | None:
    """This request's epoch (read once a request), or ``None`` when nothing may be read
    from the cache: an unsafe method, the cache off, or no epoch row."""
    if "access_epoch" not in g:
        usable = request.method in _SAFE_METHODS and CACHE.get().ttl(GRANT_NODE) > 0
        g.access_epoch = _read_epoch(session) if usable else None
    found: int | None = g.access_epoch
    return found


def _read_epoch(session: Session) -> int | None:
    """The epoch from its mirror (Redis mode: no database round trip), else from the
    database, which then fills the mirror."""
    mirror = EPOCH_MIRROR.find()
    if mirror is None:
        return epoch.current(session)
    seen = mirror.read()
    if seen.epoch is not None:
        return seen.epoch
    value = epoch.current(session)
    if value is not None and seen.fence is not None:
        mirror.fill(seen.fence, value)
    return value


def _get(session: Session, node: Node[T], detail: str, load: Callable[[], T]) -> T | None:
    """The entry of this epoch, loaded when missing; ``None`` when the cache cannot be
    used or the loader found nothing (the caller then asks the database itself)."""
    now = current_epoch(session)
    if now is None:
        return None
    try:
        return CACHE.get().get(node, str(now), detail, load)
    except NotCached:
        return None


def _account(user: User, mark: str) -> Account:
    return Account(user.id, user.email, user.name, user.role, mark)


def grant(session: Session, clear: str, mark: Callable[[User], str]) -> Grant | None:
    """The cached grant of the token ``clear`` (``None``: ask the database)."""
    if not could_be(clear, TOKEN_PREFIX, MAX_TOKEN_LENGTH):
        return None

    def load() -> Grant:
        row = token_and_user(session, clear)
        if row is None:
            raise NotCached
        token, user = row
        used = _aware(token.last_used_at) if token.last_used_at else None
        expires = _aware(token.expires_at)
        return Grant(token.id, token.scopes, expires, used, _account(user, mark(user)))

    return _get(session, GRANT_NODE, digest(clear), load)


def forget_grant(session: Session, clear: str) -> None:
    """Drop the token's entry of this epoch (its use was just written down)."""
    now = current_epoch(session)
    if now is not None:
        CACHE.get().remove(GRANT_NODE, str(now), digest(clear))


def account(session: Session, user_id: int, mark: Callable[[User], str]) -> Account | None:
    """The cached account of ``user_id`` (``None``: ask the database)."""

    def load() -> Account:
        user = session.get(User, user_id)
        if user is None:
            raise NotCached
        return _account(user, mark(user))

    return _get(session, ACCOUNT_NODE, str(user_id), load)


def roles(session: Session, user_id: int) -> dict[str, str] | None:
    """The user's role on each site they are a member of, cached (``None``: ask the
    database)."""

    def load() -> dict[str, str]:
        rows = session.execute(
            select(SiteMember.site_id, SiteMember.role).where(SiteMember.user_id == user_id)
        )
        return {str(site_id): str(role) for site_id, role in rows}

    return _get(session, ROLES_NODE, str(user_id), load)


def site(session: Session, site_id: str) -> SiteRef | None:
    """The cached site ``site_id`` (``None``: unknown, or ask the database)."""

    def load() -> SiteRef:
        row = session.execute(select(Site.id, Site.domain).where(Site.id == site_id)).first()
        if row is None:
            raise NotCached
        return SiteRef(row.id, row.domain)

    return _get(session, SITE_NODE, site_id, load)
