"""The per-address ingest limit in one process (page_tracker.ingest.rate_limit)."""

from __future__ import annotations

import pytest

from page_tracker.errors import ConfigError
from page_tracker.ingest.rate_limit import IngestLimiter, address_key
from page_tracker.settings import RateLimit, load_settings


def test_should_read_the_limit_setting() -> None:
    assert RateLimit.parse("1200/minute") == RateLimit(1200, 60)
    assert RateLimit.parse(" 5 / Second ") == RateLimit(5, 1)
    assert RateLimit.parse("off") is None
    assert RateLimit.parse("0") is None
    assert load_settings().rate_limit == RateLimit(1200, 60)
    for wrong in ("fast", "10/day", "-1/minute", "0/minute"):
        with pytest.raises(ConfigError, match="INGEST_RATE_LIMIT"):
            load_settings(INGEST_RATE_LIMIT=wrong)


def test_should_count_up_to_the_limit_per_address_and_window() -> None:
    limiter = IngestLimiter(RateLimit(3, 60))
    assert [limiter.allow("198.51.100.7", 600.0 + n) for n in range(5)] == [
        True,
        True,
        True,
        False,
        False,
    ]
    assert limiter.allow("198.51.100.8", 610.0)  # another reader
    assert limiter.allow("198.51.100.7", 660.0)  # the next window


def test_should_treat_an_ipv6_subscriber_as_one_address() -> None:
    assert address_key("2001:db8:1:2:aaaa::1") == address_key("2001:db8:1:2:bbbb::9")
    assert address_key("2001:db8:1:3::1") != address_key("2001:db8:1:2::1")
    limiter = IngestLimiter(RateLimit(2, 60))
    allowed = [limiter.allow(f"2001:db8:1:2::{n}", 5.0) for n in range(1, 4)]
    assert allowed == [True, True, False]
