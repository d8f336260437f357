"""Password hashing with argon2id (argon2-cffi's RFC 9106 low-memory profile).

A password is only ever held long enough to hash or verify it; no function here logs
or returns it.
"""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from page_tracker.errors import ValidationFailed

MIN_PASSWORD_LENGTH = 8
# argon2 hashes any length, but a megabyte password per request is a cheap attack.
MAX_PASSWORD_LENGTH = 1024

_HASHER = PasswordHasher()  # parameters only: no work, no I/O at import time


@cache
def _dummy_hash() -> str:
    """Verified when the account does not exist, so that an unknown email costs as long
    as a wrong password and answer times do not tell which accounts exist."""
    return _HASHER.hash("page-tracker: no such account")


def check_password_policy(password: str) -> None:
    """Raise :class:`ValidationFailed` unless the password may be set."""
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise ValidationFailed(
            f"a password has {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters"
        )


def hash_password(password: str) -> str:
    check_password_policy(password)
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; ``None`` (no account) verifies a dummy hash."""
    if len(password) > MAX_PASSWORD_LENGTH:
        return False
    try:
        return _HASHER.verify(password_hash or _dummy_hash(), password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's."""
    return _HASHER.check_needs_rehash(password_hash)
