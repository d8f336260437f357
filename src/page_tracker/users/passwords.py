"""Password hashing with argon2id (argon2-cffi's RFC 9106 low-memory profile).

A password is only ever held long enough to hash or verify it; no function here logs
or returns it.
"""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask import has_app_context

from page_tracker.errors import ValidationFailed
from page_tracker.settings import SETTINGS, Environment

MIN_PASSWORD_LENGTH = 8
# argon2 hashes any length, but a megabyte password per request is a cheap attack.
MAX_PASSWORD_LENGTH = 1024

# Parameters only: no work, no I/O at import time. The test environment hashes with
# argon2's cheapest parameters (the suite signs in hundreds of times); a hash carries
# its parameters, so either verifies anywhere, and a cheap hash is upgraded on sign-in.
_STRONG = PasswordHasher()
_CHEAP = PasswordHasher.from_parameters(profiles.CHEAPEST)


def _hasher() -> PasswordHasher:
    settings = SETTINGS.find() if has_app_context() else None
    return _CHEAP if settings is not None and settings.env is Environment.TEST else _STRONG


@cache
def _dummy_hash() -> str:
    """Verified when the account does not exist, so that an unknown email costs as long
    as a wrong password and answer times do not tell which accounts exist."""
    return _STRONG.hash("page-tracker: no such account")


def check_password_policy(password: str) -> None:
    """Raise :class:`ValidationFailed` unless the password may be set."""
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise ValidationFailed(
            f"a password has {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters"
        )


def hash_password(password: str) -> str:
    check_password_policy(password)
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; ``None`` (no account) verifies a dummy hash."""
    if len(password) > MAX_PASSWORD_LENGTH:
        return False
    try:
        return _STRONG.verify(password_hash or _dummy_hash(), password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's."""
    return _hasher().check_needs_rehash(password_hash)
