"""Account management. Functions take the caller's session and never commit; they raise
the API errors (:mod:`page_tracker.errors`) the REST API answers and the CLI prints."""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from page_tracker.errors import Conflict, NotFound, ValidationFailed
from page_tracker.users.models import MAX_EMAIL_LENGTH, MAX_NAME_LENGTH, Role, User
from page_tracker.users.passwords import hash_password, needs_rehash, verify_password

# Deliberately loose (one @, a dot in the domain, no blanks): the address is a login
# name here, not something we send mail to.
_EMAIL = re.compile(r"[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def normalise_email(email: str) -> str:
    """Lower-case, stripped email; :class:`ValidationFailed` when it is not one."""
    value = email.strip().lower()
    if len(value) > MAX_EMAIL_LENGTH or not _EMAIL.fullmatch(value):
        raise ValidationFailed("invalid email address")
    return value


def _check_name(name: str) -> str:
    value = name.strip()
    if _CONTROL.search(value):
        raise ValidationFailed("a name has no control characters")
    if len(value) > MAX_NAME_LENGTH:
        raise ValidationFailed(f"a name has at most {MAX_NAME_LENGTH} characters")
    return value


def create_user(
    session: Session, email: str, password: str, *, name: str = "", role: Role = Role.USER
) -> User:
    """Create and flush a user. Raises :class:`Conflict` when the email is taken and
    :class:`ValidationFailed` for an invalid email, name or password."""
    address = normalise_email(email)
    user = User(email=address, name=_check_name(name), role=Role(role).value)
    user.password_hash = hash_password(password)
    if find_user_by_email(session, address) is not None:
        raise Conflict(f"a user with email {address} exists")
    session.add(user)
    _flush_or_conflict(session, f"a user with email {address} exists")
    return user


def _flush_or_conflict(session: Session, message: str) -> None:
    try:
        session.flush()
    except IntegrityError as error:  # a concurrent create won the race for the email
        session.rollback()
        raise Conflict(message) from error


def get_user(session: Session, user_id: int) -> User:
    """The user ``user_id``; :class:`NotFound` when there is none."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    return user


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == email.strip().lower()))


def user_by_email(session: Session, email: str) -> User:
    """The user with ``email``; :class:`NotFound` when there is none."""
    user = find_user_by_email(session, email)
    if user is None:
        raise NotFound(f"no user with email {email.strip().lower()}")
    return user


def list_users(session: Session) -> Sequence[User]:
    return session.scalars(select(User).order_by(User.id)).all()


def update_user(
    session: Session,
    user: User,
    *,
    email: str | None = None,
    name: str | None = None,
    role: Role | None = None,
    password: str | None = None,
) -> User:
    """Change what is given (``None``: leave as it is) and flush. Demoting the last
    admin raises :class:`Conflict` (nobody could manage users any more)."""
    if email is not None:
        address = normalise_email(email)
        if address != user.email and find_user_by_email(session, address) is not None:
            raise Conflict(f"a user with email {address} exists")
        user.email = address
    if name is not None:
        user.name = _check_name(name)
    if password is not None:
        user.password_hash = hash_password(password)
    if role is not None and Role(role).value != user.role:
        if user.is_admin and _admin_count(session) <= 1:
            raise Conflict("the last admin cannot stop being an admin")
        user.role = Role(role).value
    _flush_or_conflict(session, f"a user with email {user.email} exists")
    return user


def delete_user(session: Session, user: User) -> None:
    """Delete a user with their memberships (and, through the database, their tokens).
    The last admin cannot be deleted (:class:`Conflict`)."""
    if user.is_admin and _admin_count(session) <= 1:
        raise Conflict("the last admin cannot be deleted")
    session.delete(user)
    session.flush()


def _admin_count(session: Session) -> int:
    return session.scalar(select(func.count()).where(User.role == Role.ADMIN.value)) or 0


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The user whose email and password these are, or ``None``. Takes as long for an
    unknown email as for a wrong password; upgrades an outdated hash (flushes)."""
    try:
        user = find_user_by_email(session, normalise_email(email))
    except ValidationFailed:
        user = None
    if not verify_password(user.password_hash if user else None, password) or user is None:
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        session.flush()
    return user
