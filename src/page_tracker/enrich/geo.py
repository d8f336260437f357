"""Country of an IP address, from the IP-to-country table embedded in ``iptocc``.

``iptocc`` (MIT OR Apache-2.0) is a Rust extension whose wheel carries the delegation
files of the five Regional Internet Registries (AFRINIC, APNIC, ARIN, LACNIC, RIPE NCC),
rebuilt and released nightly; nothing is downloaded at run time. The country is the one
the registry assigned the address block to, which agrees with commercial geolocation for
about 95 % of IPv4 addresses: good enough for a "visitors by country" table.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import socket
from collections.abc import Callable

_ISO_ALPHA2 = re.compile(r"[A-Z]{2}")
# Registry codes that are not countries: EU (European Union), AP (Asia/Pacific region),
# ZZ (unknown).
_NOT_COUNTRIES = frozenset({"EU", "AP", "ZZ"})

Lookup = Callable[[str], str | None]
_FAMILIES: tuple[
    tuple[socket.AddressFamily, type[ipaddress.IPv4Address | ipaddress.IPv6Address]], ...
] = (
    (socket.AF_INET, ipaddress.IPv4Address),
    (socket.AF_INET6, ipaddress.IPv6Address),
)


@functools.cache
def _lookup() -> Lookup:
    """Import the table once per process, on first use rather than at import time."""
    from iptocc import country_code  # noqa: PLC0415 - deliberately lazy

    return country_code


def warm_up() -> None:
    """Load the table now rather than on the first lookup."""
    _lookup()


def _parse(ip: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """``ipaddress.ip_address(ip)``, or ``None`` when malformed. The socket module's C
    parser reads the usual address first (5 - 10x faster than ``ipaddress``'s string
    parsing, which took about a tenth of a Redis-mode hit's CPU); what it refuses
    (a scoped IPv6 address, garbage) goes to ``ipaddress`` itself."""
    for family, kind in _FAMILIES:
        try:
            return kind(socket.inet_pton(family, ip))
        except (OSError, ValueError):  # ValueError: a NUL or a lone surrogate in ``ip``
            continue
    try:
        return ipaddress.ip_address(ip)
    except ValueError:
        return None


def country(ip: str | None) -> str | None:
    """The ISO 3166-1 alpha-2 code of ``ip``'s country, or ``None``.

    ``None`` for a missing or malformed address, for addresses that are not globally
    routable (private, loopback, link-local, CGNAT, documentation, ...), and for blocks
    the registries do not assign to one country. IPv4-mapped IPv6 addresses
    (``::ffff:a.b.c.d``, as dual-stack sockets report IPv4 clients) are looked up as IPv4.
    """
    if not ip:
        return None
    return _country(ip)


# Answers per address, cached like the User-Agent's (agents.CACHE_SIZE): a reader's
# further page views, and the readers behind one NAT or proxy, come from an address seen
# moments ago. A lookup is about 8 % of a Redis-mode hit's profiled CPU (``ipaddress``'s
# ``is_global`` walks some twenty networks; bench/README.md). The addresses are keys in
# this process's memory only, like the request's own; nothing here is stored or logged.
@functools.lru_cache(maxsize=8192)
def _country(ip: str) -> str | None:
    ip = ip.strip()
    address = _parse(ip)
    if address is None:
        return None
    # An IPv4 address that parsed is a dotted quad without leading zeros already: the
    # table's form, with no str() of the address object to make.
    text = ip if address.version == 4 else None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if not address.is_global:
        return None
    code = _lookup()(text or str(address))
    if code is None or code in _NOT_COUNTRIES or not _ISO_ALPHA2.fullmatch(code):
        return None
    return code


cache_info = _country.cache_info
cache_clear = _country.cache_clear
