"""Who sent a request: the address behind ``TRUSTED_PROXIES`` (hit path, login limits).

The address is used in memory only: the hit path turns it into a salted visitor hash,
the login limits and the audit log into :func:`address_key`. It is never stored.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from page_tracker.settings import SETTINGS


def client_ip(environ: Mapping[str, Any], trusted_proxies: int | None = None) -> str:
    """The reader's address: the peer's, or with ``TRUSTED_PROXIES=N`` the N-th entry of
    ``X-Forwarded-For`` from the right (what the nearest trusted proxy saw). Entries
    further left are set by the client and could be forged. ``trusted_proxies`` defaults
    to the current app's setting."""
    hops = SETTINGS.get().trusted_proxies if trusted_proxies is None else trusted_proxies
    if hops:
        header = str(environ.get("HTTP_X_FORWARDED_FOR", ""))
        forwarded = [part for part in (p.strip() for p in header.split(",")) if part]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return str(environ.get("REMOTE_ADDR") or "")


def address_key(environ: Mapping[str, Any]) -> str:
    """A keyed hash of the client's address (HMAC with ``SECRET_KEY``, 16 hex digits):
    the same address gives the same key while the secret stays, and the key does not
    give the address back. For rate-limit keys and audit rows, where a raw address must
    not be kept."""
    secret = SETTINGS.get().secret_key.get_secret_value().encode()
    digest = hmac.new(secret, client_ip(environ).encode(), hashlib.sha256)
    return digest.hexdigest()[:16]
