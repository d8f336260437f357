"""Referrer normalisation: host, self-referral filtering and known source names."""

from __future__ import annotations

import functools
import re
from collections.abc import Collection
from typing import NamedTuple
from urllib.parse import urlsplit

from page_tracker.enrich.sources import BRANDS, SOURCES

_SCHEMES = frozenset({"http", "https", "android-app"})
_MAX_LENGTH = 2048
_MAX_HOST_LENGTH = 253
# After urlsplit: DNS names (IDN in Unicode or punycode), IPv4 and IPv6 literals; no
# white space, control characters or URL syntax left over from a mangled header.
_HOST = re.compile(r"[\w.:-]+")
# Second-level labels under country codes, as in google.co.uk or yandex.com.tr.
_GENERIC_SLDS = frozenset({"co", "com", "net", "org", "ac", "gov", "edu", "ne", "or"})
# A referrer without a scheme is accepted only when it starts like a host name.
_BARE_HOST = re.compile(r"[a-z0-9-]+(?:\.[a-z0-9-]+)+(?::\d+)?(?:[/?#]|$)", re.IGNORECASE)


class Referrer(NamedTuple):
    host: str | None = None
    source: str | None = None


NO_REFERRER = Referrer()


def normalise_host(host: str) -> str:
    """Lower-case, without a trailing dot and without a leading ``www.``."""
    host = host.strip().lower().rstrip(".")
    return host.removeprefix("www.")


def _brand(labels: list[str]) -> str | None:
    # "<brand>.<tld>" or "<brand>.<generic sld>.<cc>", with any subdomains in front.
    for index, label in enumerate(labels[:-1]):
        rest = labels[index + 1 :]
        if label in BRANDS and (
            len(rest) == 1 or (len(rest) == 2 and rest[0] in _GENERIC_SLDS and len(rest[1]) == 2)
        ):
            return BRANDS[label]
    return None


@functools.lru_cache(maxsize=4096)
def source_name(host: str) -> str | None:
    """The display name of a known source for a normalised host, or ``None``."""
    labels = host.split(".")
    for index in range(len(labels) - 1):
        if (name := SOURCES.get(".".join(labels[index:]))) is not None:
            return name
    return _brand(labels)


def _host(referrer: str) -> str | None:
    if "://" not in referrer:
        # Some clients send a bare host ("example.com/page"); treat it as http, but
        # not "javascript:..." or "about:blank".
        if not _BARE_HOST.match(referrer):
            return None
        referrer = f"http://{referrer}"
    try:
        parts = urlsplit(referrer)
        host = parts.hostname
    except ValueError:  # e.g. "http://[::1" (unbalanced IPv6 bracket)
        return None
    if parts.scheme not in _SCHEMES or not host:
        return None
    host = normalise_host(host)
    if not host or len(host) > _MAX_HOST_LENGTH or not _HOST.fullmatch(host):
        return None
    return host


def referrer(value: str | None, site_hosts: Collection[str]) -> Referrer:
    """Normalise a Referer header (or the script's ``document.referrer``).

    Returns the referrer's host (lower-case, without ``www.``) and the name of the
    source when known (see :mod:`.sources`). Both are ``None`` when the referrer is
    missing, is not an http(s) or ``android-app://`` URL, cannot be parsed, or is a
    self-referral: its host is one of ``site_hosts`` (compared after the same
    normalisation, so ``www.example.com`` refers to ``example.com``).
    """
    if not value or not value.strip():
        return NO_REFERRER
    host = _host(value.strip()[:_MAX_LENGTH])
    if host is None:
        return NO_REFERRER
    if host in site_hosts or any(normalise_host(own) == host for own in site_hosts):
        return NO_REFERRER
    return Referrer(host, source_name(host))
