"""Visitor hashes: keyed BLAKE2b of site, IP and user agent."""

import hashlib

import pytest

from page_tracker.enrich.visitors import visitor_hash, visitor_hashes

SALT = bytes(range(32))
UA = "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0"


def test_should_give_the_same_16_bytes_for_the_same_inputs() -> None:
    first = visitor_hash(SALT, "abc123def456", "203.0.113.9", UA)

    assert len(first) == 16
    assert visitor_hash(SALT, "abc123def456", "203.0.113.9", UA) == first


def test_should_stay_stable_across_releases() -> None:
    # A changed encoding would split every visitor of the current day in two.
    expected = hashlib.blake2b(
        b"".join(len(v).to_bytes(8, "big") + v for v in (b"s", b"1.2.3.4", b"ua")),
        digest_size=16,
        key=b"k",
        person=b"pt-visitor-v1",
    ).digest()
    assert visitor_hash(b"k", "s", "1.2.3.4", "ua") == expected


@pytest.mark.parametrize(
    ("salt", "site", "ip", "ua"),
    [
        (bytes(reversed(SALT)), "abc123def456", "203.0.113.9", UA),
        (SALT, "zzz123def456", "203.0.113.9", UA),
        (SALT, "abc123def456", "203.0.113.10", UA),
        (SALT, "abc123def456", "203.0.113.9", UA + " "),
    ],
)
def test_should_change_when_any_input_changes(salt: bytes, site: str, ip: str, ua: str) -> None:
    assert visitor_hash(salt, site, ip, ua) != visitor_hash(SALT, "abc123def456", "203.0.113.9", UA)


def test_should_not_confuse_field_boundaries() -> None:
    assert visitor_hash(SALT, "ab", "c", UA) != visitor_hash(SALT, "a", "bc", UA)
    assert visitor_hash(SALT, "s", "1.2.3.4", "") != visitor_hash(SALT, "s", "1.2.3.", "4")


def test_should_not_be_an_unkeyed_hash() -> None:
    unkeyed = hashlib.blake2b(b"s1.2.3.4ua", digest_size=16).digest()

    assert visitor_hash(SALT, "s", "1.2.3.4", "ua") != unkeyed


def test_should_accept_non_ascii_user_agents() -> None:
    assert len(visitor_hash(SALT, "s", "::1", "Navigateur \u00e9\U0001f600")) == 16


@pytest.mark.parametrize("salt", [b"", bytes(65)])
def test_should_refuse_salts_that_are_not_blake2b_keys(salt: bytes) -> None:
    with pytest.raises(ValueError, match="salt must be 1 to 64 bytes"):
        visitor_hash(salt, "s", "1.2.3.4", "ua")


def test_should_hash_under_several_salts_as_under_each_alone() -> None:
    salts = (b"d" * 32, b"l" * 32)
    agent = "Mozilla/5.0 (X11; Linux x86_64)"

    assert visitor_hashes(salts, "site00000001", "203.0.113.7", agent) == [
        visitor_hash(salt, "site00000001", "203.0.113.7", agent) for salt in salts
    ]
    with pytest.raises(ValueError, match="salt"):
        visitor_hashes((b"d" * 32, b""), "site00000001", "203.0.113.7", agent)
