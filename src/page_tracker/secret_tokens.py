"""Bearer secrets (API tokens, share links): made with a public prefix, kept as a hash.

The clear text is shown once; the database holds its SHA-256 (the secret is random and
long, so a fast hash is enough: nothing to guess from it).
"""

from __future__ import annotations

import hashlib
import secrets


def digest(clear: str) -> str:
    """What the database keeps of a secret."""
    return hashlib.sha256(clear.encode()).hexdigest()


def new_secret(prefix: str) -> str:
    """A fresh random secret that starts with ``prefix`` (which says what it is for)."""
    return prefix + secrets.token_urlsafe(32)


def could_be(clear: str, prefix: str, max_length: int) -> bool:
    """Whether ``clear`` is worth a lookup: our prefix and no longer than ours are."""
    return clear.startswith(prefix) and len(clear) <= max_length
