"""Redis mode refuses a Redis that may evict its keys, and ``/readyz`` says when Redis is
full and how many hits wait in it. Each test runs its own redis-server (free port) so it
may set its memory policy."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from click.testing import CliRunner
from flask import Flask

from page_tracker import create_app
from page_tracker.app import close_app
from page_tracker.cli import cli, script_info
from page_tracker.db import get_session
from page_tracker.errors import ConfigError
from page_tracker.settings import load_settings
from page_tracker.sites.services import create_site
from tests.services import RedisServer, fill_redis

READER = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
REFUSED = (
    "invalid configuration: Redis maxmemory-policy is allkeys-lru: it may evict unflushed "
    "hits and salts; set maxmemory-policy noeviction (or REDIS_ACCEPT_EVICTION_RISK=true "
    "to run anyway)"
)


@pytest.fixture
def evicting_redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(
        tmp_path / "evicting-redis",
        ("--maxmemory", "64mb", "--maxmemory-policy", "allkeys-lru", "--appendonly", "no"),
    ).start()
    yield server
    server.kill()


@pytest.fixture
def make_worker(tmp_path: Path, clean_database: str) -> Iterator[Callable[..., Flask]]:
    apps: list[Flask] = []

    def build(redis_url: str, **env: str) -> Flask:
        settings = load_settings(
            LOG_DIR=str(tmp_path / "log"),
            PAGE_TRACKER_ENV="test",
            DATABASE_URL=clean_database,
            REDIS_URL=redis_url,
            **env,
        )
        apps.append(create_app(settings=settings, configure_logging=False))
        return apps[-1]

    yield build
    for app in apps:
        close_app(app)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_should_refuse_to_start_on_an_evicting_redis_with_one_line(
    make_worker: Callable[..., Flask],
    evicting_redis: RedisServer,
    clean_database: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    # Given a Redis whose maxmemory-policy is allkeys-lru
    # When an app starts on it: refused, naming the setting
    with pytest.raises(ConfigError) as refused:
        make_worker(evicting_redis.url)
    assert str(refused.value) == REFUSED
    # and a command or the server prints that one line and exits 2
    monkeypatch.setenv("DATABASE_URL", clean_database)
    monkeypatch.setenv("REDIS_URL", evicting_redis.url)
    monkeypatch.setenv("LOG_DIR", str(tmp_path / "log"))
    for command in (["sites", "list"], ["serve", "--port", "1"]):
        printed = CliRunner().invoke(cli, command, obj=script_info())
        assert printed.exit_code == 2, printed.output
        assert printed.output.strip().splitlines() == [f"page-tracker: error: {REFUSED}"]
    # When the operator accepts the risk explicitly: it starts, and /readyz is ready
    app = make_worker(evicting_redis.url, REDIS_ACCEPT_EVICTION_RISK="true")
    ready = app.test_client().get("/readyz")
    assert ready.status_code == 200
    assert ready.json is not None
    assert ready.json["checks"] == {"database": "ok", "redis": "ok"}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_should_turn_unready_when_the_policy_changes_to_evicting(
    make_worker: Callable[..., Flask], capped_redis: RedisServer
) -> None:
    # Given a ready app on a noeviction Redis
    app = make_worker(capped_redis.url)
    assert app.test_client().get("/readyz").status_code == 200
    # When someone switches the policy to allkeys-lru
    client = redis.Redis.from_url(capped_redis.url)
    client.config_set("maxmemory-policy", "allkeys-lru")
    client.close()
    # Then /readyz is 503 and names the setting
    ready = app.test_client().get("/readyz")
    assert ready.status_code == 503
    assert ready.json is not None
    assert ready.json["failing"] == ["redis"]
    assert "maxmemory-policy is allkeys-lru" in ready.json["details"]["redis"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_should_report_a_full_redis_and_the_backlog_in_readyz(
    make_worker: Callable[..., Flask], capped_redis: RedisServer
) -> None:
    # Given an app with 3 hits waiting in Redis
    app = make_worker(capped_redis.url)
    with app.app_context():
        site = create_site(get_session(), "example.com")
        get_session().commit()
    for number in range(3):
        app.test_client().post(
            "/api/v1/hits",
            data=json.dumps({"site": site.id, "url": f"https://example.com/{number}"}),
            headers={"Content-Type": "text/plain", "User-Agent": READER},
        )
    ready = app.test_client().get("/readyz")
    assert ready.status_code == 200
    assert ready.json is not None
    assert ready.json["status"] == "ok"
    assert ready.json["redis_backlog"] == 3
    assert ready.json["redis_maxmemory"] == 2 * 1024 * 1024
    # When Redis is full
    client = redis.Redis.from_url(capped_redis.url)
    fill_redis(client)
    client.close()
    # Then /readyz stays 200 (hits are still stored) and says Redis is full
    ready = app.test_client().get("/readyz")
    assert ready.status_code == 200
    assert ready.json is not None
    assert ready.json["status"] == "degraded"
    assert ready.json["checks"] == {"database": "ok", "redis": "full"}
    assert ready.json["redis_backlog"] == 3
