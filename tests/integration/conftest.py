"""Integration tests: real Redis, MariaDB, PostgreSQL and SQLite; shared fixtures."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask

from page_tracker import create_app
from page_tracker.app import close_app
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
