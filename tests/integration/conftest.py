"""Integration tests: real Redis, MariaDB, PostgreSQL and SQLite; shared fixtures."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from flask import Flask
from sqlalchemy import Engine

from page_tracker import create_app
from page_tracker.app import close_app
from page_tracker.db import make_engine
from page_tracker.settings import load_settings
from tests.services import CAPPED_REDIS, RedisServer

# Every test in this folder talks to real servers; none may hang CI.
pytestmark = [pytest.mark.integration]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration" in str(item.path):
            item.add_marker(pytest.mark.integration)
            item.add_marker(pytest.mark.timeout(60))


@pytest.fixture
def engine(clean_database: str) -> Iterator[Engine]:
    """An engine on a database of this test's own (``clean_database``), disposed after."""
    engine = make_engine(clean_database)
    yield engine
    engine.dispose()


@pytest.fixture
def make_app(tmp_path: Path) -> Iterator[Callable[..., Flask]]:
    """Build apps from settings (``DATABASE_URL=...``); their engines and Redis clients
    are closed after the test."""
    apps: list[Flask] = []

    def build(**env: str) -> Flask:
        settings = load_settings(
            **{"LOG_DIR": str(tmp_path / "log"), "PAGE_TRACKER_ENV": "test", **env}
        )
        apps.append(create_app(settings=settings))
        return apps[-1]

    yield build
    for app in apps:
        close_app(app)


@pytest.fixture
def capped_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A private redis-server capped at 2 MB with ``noeviction`` (full: writes refused)."""
    server = RedisServer(tmp_path / "capped-redis", CAPPED_REDIS).start()
    yield server
    server.kill()


@pytest.fixture
def redis_app(
    tmp_path: Path, clean_database: str, redis_url: str, redis_prefix: str
) -> Iterator[Flask]:
    """An app in Redis mode on the test's database (logging left to pytest); its Redis
    keys are deleted after the test."""
    settings = load_settings(
        LOG_DIR=str(tmp_path / "log"),
        PAGE_TRACKER_ENV="test",
        DATABASE_URL=clean_database,
        REDIS_URL=redis_url,
        REDIS_KEY_PREFIX=redis_prefix,
    )
    app = create_app(settings=settings, configure_logging=False)
    yield app
    close_app(app)
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(f"{redis_prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()
