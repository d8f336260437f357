"""Visitor identifiers: a keyed hash of site, IP address and user agent.

PRODUCT.md §5 (counting rules): the raw IP address is never stored. A visitor is the
keyed BLAKE2b digest of (site id, IP, user agent) under a salt that the hit path rotates
daily and then destroys (``ingest/salts.py``); once the salt is gone, the digest cannot
be linked back to an address, and the same person gets a different digest on another
day or site.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

DIGEST_SIZE = 16
MAX_SALT_SIZE = hashlib.blake2b.MAX_KEY_SIZE  # 64 bytes
# BLAKE2b personalisation: separates these digests from any other use of the same key.
_PERSON = b"pt-visitor-v1"


def _field(value: str) -> bytes:
    raw = value.encode("utf-8", "surrogatepass")
    # A length prefix keeps the encoding unambiguous: ("ab", "c") != ("a", "bc").
    return len(raw).to_bytes(8, "big") + raw


def visitor_hash(salt: bytes, site_id: str, ip: str, user_agent: str) -> bytes:
    """Return the 16-byte visitor digest of ``(site_id, ip, user_agent)`` keyed by ``salt``.

    Deterministic for equal inputs; any change of salt, site, IP or user agent gives an
    unrelated digest. ``salt`` must be 1 to 64 bytes (the BLAKE2b key size), otherwise
    :class:`ValueError` is raised: an empty key would make the digest an unkeyed hash
    that anyone could recompute from an IP address.
    """
    return visitor_hashes((salt,), site_id, ip, user_agent)[0]


def visitor_hashes(salts: Sequence[bytes], site_id: str, ip: str, user_agent: str) -> list[bytes]:
    """:func:`visitor_hash` under each of ``salts`` (the day's salt and the all-time
    key of one hit), the hashed fields encoded once."""
    data = b"".join([_field(site_id), _field(ip), _field(user_agent)])
    digests: list[bytes] = []
    for salt in salts:
        if not 0 < len(salt) <= MAX_SALT_SIZE:
            raise ValueError(f"salt must be 1 to {MAX_SALT_SIZE} bytes, got {len(salt)}")
        digests.append(
            hashlib.blake2b(data, digest_size=DIGEST_SIZE, key=salt, person=_PERSON).digest()
        )
    return digests
