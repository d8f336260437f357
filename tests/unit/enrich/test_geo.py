"""Country lookup from the IP-to-country table bundled in the iptocc wheel."""

import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from page_tracker.enrich import geo
from page_tracker.enrich.geo import country


@pytest.mark.parametrize(
    ("ip", "expected"),
    [
        ("8.8.8.8", "US"),  # Google Public DNS
        ("2001:4860:4860::8888", "US"),  # Google Public DNS over IPv6
        ("::ffff:8.8.8.8", "US"),  # IPv4-mapped, as dual-stack sockets report it
        ("1.1.1.1", "AU"),  # APNIC's research block (Cloudflare DNS), registered in AU
        ("114.114.114.114", "CN"),
        ("200.160.2.3", "BR"),  # registro.br
        (" 8.8.4.4 ", "US"),
    ],
)
def test_should_find_the_registered_country_of_public_addresses(ip: str, expected: str) -> None:
    assert country(ip) == expected


@pytest.mark.parametrize(
    "ip",
    [
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "127.0.0.1",
        "::1",
        "fe80::1",
        "fd00::1",
        "100.64.0.1",  # carrier-grade NAT
        "192.0.2.1",  # documentation
        "0.0.0.0",  # noqa: S104 - an address to look up, not to bind
        "::ffff:192.168.1.1",
    ],
)
def test_should_give_no_country_for_private_and_special_addresses(ip: str) -> None:
    assert country(ip) is None


@pytest.mark.parametrize("ip", ["", None, "not-an-ip", "999.1.1.1", "8.8.8.8:443", "1.2.3"])
def test_should_give_no_country_for_malformed_addresses(ip: str | None) -> None:
    assert country(ip) is None


@pytest.mark.parametrize("code", ["EU", "AP", "ZZ", "us", "USA", None])
def test_should_drop_registry_codes_that_are_not_iso_countries(
    monkeypatch: pytest.MonkeyPatch, code: str | None
) -> None:
    # Registries file some blocks under regions (EU, AP) rather than a country.
    monkeypatch.setattr(geo, "_lookup", lambda: lambda _ip: code)
    geo.cache_clear()  # answers are cached per address: ask the patched table
    try:
        assert country("8.8.8.8") is None
    finally:
        geo.cache_clear()  # the other tests ask the real table


def test_should_answer_a_repeated_address_from_the_cache() -> None:
    geo.cache_clear()
    first = country(" 8.8.8.8 ")
    hits = geo.cache_info().hits

    assert country(" 8.8.8.8 ") == first == "US"
    assert geo.cache_info().hits == hits + 1


def _country_as_before(ip: str) -> str | None:
    """country() as it was before its fast parse: ipaddress all the way."""
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if not address.is_global:
        return None
    code = geo._lookup()(str(address))
    return code if code is not None and code not in {"EU", "AP", "ZZ"} else None


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.ip_addresses().map(str),
        st.ip_addresses(v=6).map(lambda a: a.exploded),
        st.text(alphabet="0123456789.:abcdef% ", max_size=45),
    )
)
def test_should_find_the_country_the_ipaddress_module_finds(ip: str) -> None:
    assert country(ip) == _country_as_before(ip)
