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
from collections.abc import Callable

_ISO_ALPHA2 = re.compile(r"[A-Z]{2}")
# Registry codes that are not countries: EU (European Union), AP (Asia/Pacific region),
# ZZ (unknown).
_NOT_COUNTRIES = frozenset({"EU", "AP", "ZZ"})

Lookup = Callable[[str], str | None]


@functools.cache
def _lookup() -> Lookup:
    """Import the table once per process, on first use rather than at import time."""
    from iptocc import country_code  # noqa: PLC0415 - deliberately lazy

    return country_code


def warm_up() -> None:
    """Load the table now rather than on the first lookup."""
    _lookup()


def country(ip: str | None) -> str | None:
    """The ISO 3166-1 alpha-2 code of ``ip``'s country, or ``None``.

    ``None`` for a missing or malformed address, for addresses that are not globally
    routable (private, loopback, link-local, CGNAT, documentation, ...), and for blocks
    the registries do not assign to one country. IPv4-mapped IPv6 addresses
    (``::ffff:a.b.c.d``, as dual-stack sockets report IPv4 clients) are looked up as IPv4.
    """
    if not ip:
        return None
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if not address.is_global:
        return None
    code = _lookup()(str(address))
    if code is None or code in _NOT_COUNTRIES or not _ISO_ALPHA2.fullmatch(code):
        return None
    return code
