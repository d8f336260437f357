"""Who is asking, from a bearer token or the browser session, and what they may do.

A request is authenticated by ``Authorization: Bearer pt_...`` or, for the dashboard,
by the session cookie set by ``POST /api/v1/session``. A session acts with every scope
its user's role allows, but an unsafe method (POST, PUT, PATCH, DELETE) must then carry
the session's CSRF token in ``X-CSRF-Token``: a cookie is sent by the browser on its
own, a header only by our own script.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import g, request, session
from flask_wtf.csrf import generate_csrf, validate_csrf
from wtforms import ValidationError as CSRFError

from page_tracker.auth import access
from page_tracker.auth.tokens import Scope, grants, resolve_token, token_scopes, use_due
from page_tracker.db import get_session
from page_tracker.errors import Forbidden, Unauthorized
from page_tracker.users.models import User

CSRF_HEADER = "X-CSRF-Token"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_SESSION_USER = "user_id"
_SESSION_PASSWORD = "password_mark"  # noqa: S105  # nosec B105 - a session key's name
_BEARER = {"WWW-Authenticate": 'Bearer realm="page-tracker"'}


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: the user, the scopes of this request's credential, and
    the token used (``None`` for a browser session)."""

    user: User
    scopes: tuple[Scope, ...]
    token_id: int | None = None

    @property
    def by_session(self) -> bool:
        return self.token_id is None

    def may(self, scope: Scope) -> bool:
        return grants(self.scopes, scope)


def _role_scopes(user: User) -> tuple[Scope, ...]:
    return (Scope.READ, Scope.WRITE, Scope.ADMIN) if user.is_admin else (Scope.READ, Scope.WRITE)


def _scoped(user: User, scopes: tuple[Scope, ...]) -> tuple[Scope, ...]:
    """The token's scopes that the user's role still allows."""
    allowed = _role_scopes(user)
    return tuple(scope for scope in scopes if scope in allowed)


def _password_mark(user: User) -> str:
    # Changing the password changes the mark, which ends every session of the user.
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def start_session(user: User) -> str:
    """Sign the browser in as ``user`` (a fresh session: nothing of a session before
    survives); returns the CSRF token its script must send."""
    session.clear()
    session.permanent = True
    session[_SESSION_USER] = user.id
    session[_SESSION_PASSWORD] = _password_mark(user)
    return csrf_token()


def end_session() -> None:
    session.clear()


def csrf_token() -> str:
    return str(generate_csrf())


def current_principal() -> Principal | None:
    """The request's caller, or ``None`` when it brings no credential. A bearer token
    that is unknown or expired raises :class:`Unauthorized` (it never falls back to the
    cookie); so does a session whose user is gone or changed their password."""
    if "principal" not in g:
        g.principal = _authenticate()
    found: Principal | None = g.principal
    return found


def _authenticate() -> Principal | None:
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, credential = header.partition(" ")
        if scheme.lower() != "bearer" or not credential.strip():
            raise Unauthorized("use Authorization: Bearer TOKEN", headers=_BEARER)
        return _by_token(credential.strip())
    user_id = session.get(_SESSION_USER)
    if user_id is None:
        return None
    db_session = get_session()
    cached = access.account(db_session, user_id, _password_mark) if type(user_id) is int else None
    user: User | None
    if cached is not None:
        mark, user = cached.password_mark, cached.user()
    else:
        user = db_session.get(User, user_id)
        mark = "" if user is None else _password_mark(user)
    if user is None or session.get(_SESSION_PASSWORD) != mark:
        session.clear()
        raise Unauthorized("the session has ended; sign in again", headers=_BEARER)
    return Principal(user, _role_scopes(user))


def _by_token(clear: str) -> Principal:
    """The caller of a bearer token: from the access cache on a read whose token needs
    no record of its use now, else from the database (which records the use)."""
    db_session = get_session()
    cached = access.grant(db_session, clear, _password_mark)
    if cached is not None:
        now = datetime.now(UTC)
        if cached.expires_at <= now:
            raise Unauthorized("the token is unknown, revoked or expired", headers=_BEARER)
        if not use_due(cached.last_used_at, now):
            user = cached.account.user()
            scopes = tuple(Scope(scope) for scope in cached.scopes.split(",") if scope)
            return Principal(user, _scoped(user, scopes), cached.token_id)
    resolved = resolve_token(db_session, clear)
    if resolved is None:
        raise Unauthorized("the token is unknown, revoked or expired", headers=_BEARER)
    db_session.commit()  # the recorded use, before the view starts its own work
    if cached is not None:
        access.forget_grant(db_session, clear)  # it holds the use before this one
    token, user = resolved
    return Principal(user, _scoped(user, token_scopes(token)), token.id)


def require(scope: Scope) -> Principal:
    """The caller, who must hold ``scope``: :class:`Unauthorized` without credentials,
    :class:`Forbidden` without the scope or (session, unsafe method) without the CSRF
    token."""
    principal = current_principal()
    if principal is None:
        raise Unauthorized(headers=_BEARER)
    if principal.by_session and request.method not in _SAFE_METHODS:
        try:
            validate_csrf(request.headers.get(CSRF_HEADER, ""))
        except CSRFError:
            raise Forbidden(f"send the session's CSRF token in {CSRF_HEADER}") from None
    if not principal.may(scope):
        raise Forbidden(f"this needs the {scope} scope")
    return principal
