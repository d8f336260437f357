"""API tokens: issued once in clear, then known by their hash only.

A token reads ``pt_`` + 43 URL-safe characters (256 random bits); the ``pt_`` prefix
lets secret scanners and people recognise it. Scopes form a ladder: ``read`` reads,
``write`` also changes sites and members, ``admin`` also manages users (admins only).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from page_tracker.auth import audit
from page_tracker.auth.models import ApiToken
from page_tracker.errors import Forbidden, NotFound
from page_tracker.secret_tokens import could_be, digest, new_secret
from page_tracker.users.models import User

TOKEN_PREFIX = "pt_"  # noqa: S105  # nosec B105 - the public prefix, not a token
SHOWN_PREFIX_LENGTH = len(TOKEN_PREFIX) + 6
MAX_TOKEN_LENGTH = 100
# How often one token's use is written down (last_used_at and an audit event): a token
# that polls every second must not write a row every second.
USE_RECORDED_EVERY = timedelta(hours=1)


class Scope(StrEnum):
    READ = "read"
    WRITE = "write"
    ADMIN = "admin"


_LADDER = (Scope.READ, Scope.WRITE, Scope.ADMIN)


def grants(scopes: Iterable[Scope | str], needed: Scope) -> bool:
    """True when ``scopes`` include ``needed`` or a scope above it on the ladder."""
    held = {Scope(scope) for scope in scopes}
    return any(scope in held for scope in _LADDER[_LADDER.index(needed) :])


def _aware(moment: datetime) -> datetime:
    # SQLite and MariaDB hand back naive datetimes for what was written in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def issue_token(
    session: Session,
    user: User,
    scopes: Iterable[Scope],
    *,
    expires_in: timedelta,
    name: str = "",
) -> tuple[ApiToken, str]:
    """Create a token for ``user`` and return it with its clear text, which is not kept
    anywhere (flushes, records the event). An ``admin`` scope for a non-admin raises
    :class:`Forbidden`."""
    wanted = sorted({Scope(scope) for scope in scopes}, key=_LADDER.index)
    if Scope.ADMIN in wanted and not user.is_admin:
        raise Forbidden("only admins can hold admin-scoped tokens")
    clear = new_secret(TOKEN_PREFIX)
    token = ApiToken(
        user_id=user.id,
        name=name,
        prefix=clear[:SHOWN_PREFIX_LENGTH],
        token_hash=digest(clear),
        scopes=",".join(wanted),
        expires_at=datetime.now(UTC) + expires_in,
    )
    session.add(token)
    session.flush()
    audit.record(session, audit.Event.TOKEN_CREATED, user_id=user.id, token_id=token.id)
    session.flush()
    return token, clear


def token_scopes(token: ApiToken) -> tuple[Scope, ...]:
    return tuple(Scope(scope) for scope in token.scopes.split(",") if scope)


def token_and_user(session: Session, clear: str) -> tuple[ApiToken, User] | None:
    """The stored token whose hash matches ``clear`` and its user, live or not (the one
    lookup behind :func:`resolve_token` and the access cache's grants)."""
    row = session.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == digest(clear))
    ).first()
    return None if row is None else (row[0], row[1])


def resolve_token(session: Session, clear: str) -> tuple[ApiToken, User] | None:
    """The live token with this clear text and its user, or ``None`` (unknown, expired,
    or not a page-tracker token). Writes down its use at most every
    :data:`USE_RECORDED_EVERY` (flushes then)."""
    if not could_be(clear, TOKEN_PREFIX, MAX_TOKEN_LENGTH):
        return None
    row = token_and_user(session, clear)
    if row is None:
        return None
    token, user = row
    now = datetime.now(UTC)
    if _aware(token.expires_at) <= now:
        return None
    if use_due(token.last_used_at, now):
        token.last_used_at = now
        audit.record(session, audit.Event.TOKEN_USED, user_id=user.id, token_id=token.id)
        session.flush()
    return token, user


def use_due(last_used_at: datetime | None, now: datetime) -> bool:
    """Whether a token last used at ``last_used_at`` gets its use written down ``now``."""
    return last_used_at is None or _aware(last_used_at) <= now - USE_RECORDED_EVERY


def list_tokens(session: Session, user: User) -> Sequence[ApiToken]:
    """The user's tokens, expired ones included (they show when to make a new one)."""
    return session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)
    ).all()


def revoke_token(session: Session, user: User, token_id: int) -> None:
    """Delete one of the user's tokens (an admin may revoke anybody's); flushes and
    records the event. :class:`NotFound` for a token that is not theirs."""
    token = session.get(ApiToken, token_id)
    if token is None or (token.user_id != user.id and not user.is_admin):
        raise NotFound(f"no token {token_id}")
    session.delete(token)
    audit.record(session, audit.Event.TOKEN_REVOKED, user_id=user.id, token_id=token_id)
    session.flush()


def expires_at(token: ApiToken) -> datetime:
    return _aware(token.expires_at)
