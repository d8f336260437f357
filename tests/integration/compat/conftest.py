"""Fixtures for the compatibility endpoints: a whole app on a real database, and sites."""

from collections.abc import Callable, Iterator

import pytest
import redis
from flask import Flask

from page_tracker.stats.counters import COUNTERS, Counters

DESKTOP_CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
DESKTOP_FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"


@pytest.fixture
def own_redis_keys(redis_url: str, redis_prefix: str) -> Iterator[str]:
    """The test's Redis key prefix; its keys are deleted afterwards (never a FLUSHDB)."""
    yield redis_prefix
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(match=f"{redis_prefix}*"):
        client.delete(key)
    client.close()


@pytest.fixture
def app(clean_database: str, make_app: Callable[..., Flask]) -> Flask:
    return make_app(DATABASE_URL=clean_database)


def read_counters(app: Flask, site_id: str, path: str) -> Counters:
    with app.app_context():
        return COUNTERS.get().read(site_id, path)
