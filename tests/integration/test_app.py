"""The whole app (Flask test client) against real stores."""

from collections.abc import Callable
from pathlib import Path

import pytest
import redis
from flask import Flask


def test_should_count_in_each_database(
    clean_database: str, tmp_path: Path, make_app: Callable[..., Flask]
) -> None:
    client = make_app(DATABASE_URL=clean_database).test_client()
    assert client.get("/").get_data(as_text=True) == "This page has been seen 1 times."
    assert client.get("/").get_data(as_text=True) == "This page has been seen 2 times."
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json is not None
    assert (ready.json["status"], ready.json["checks"]) == ("ok", {"database": "ok"})
    gauges = {name for name in ready.json if name not in ("status", "checks")}
    assert gauges  # the read cache's, and only those
    assert all(name.startswith("cache_") for name in gauges)


def test_should_count_in_redis_when_configured(
    clean_database: str, redis_url: str, redis_prefix: str, make_app: Callable[..., Flask]
) -> None:
    app = make_app(DATABASE_URL=clean_database, REDIS_URL=redis_url, REDIS_KEY_PREFIX=redis_prefix)
    client = app.test_client()
    assert client.get("/").get_data(as_text=True) == "This page has been seen 1 times."
    raw = redis.Redis.from_url(redis_url)
    assert raw.get(f"{redis_prefix}counter:page_views") == b"1"
    ready = client.get("/readyz").json
    assert ready is not None
    assert (ready["status"], ready["checks"]) == ("ok", {"database": "ok", "redis": "ok"})
    assert ready["dead_letters"] == 0
    assert ready["redis_backlog"] >= 0
    assert set(ready) >= {"redis_used_memory", "redis_maxmemory"}
    raw.delete(f"{redis_prefix}counter:page_views")
    raw.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_should_answer_500_and_log_traceback_when_redis_is_down(
    clean_database: str, tmp_path: Path, make_app: Callable[..., Flask]
) -> None:
    app = make_app(DATABASE_URL=clean_database, REDIS_URL="redis://127.0.0.1:1/0")
    response = app.test_client().get("/")
    assert response.status_code == 500
    assert response.get_data(as_text=True) == "Sorry, something went wrong \N{PENSIVE FACE}"
    error_log = (tmp_path / "log" / "error.log").read_text()
    assert "Unable to count the page view" in error_log
    assert "Traceback" in error_log
    ready = app.test_client().get("/readyz")
    assert ready.status_code == 503
    assert ready.json is not None
    assert ready.json["failing"] == ["redis"]


def test_should_be_unready_when_the_database_is_down(make_app: Callable[..., Flask]) -> None:
    app = make_app(DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:1/none")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json is not None
    assert response.json["failing"] == ["database"]
    assert response.get_json()["details"] == {"database": "database unavailable"}
    assert app.test_client().get("/healthz").json == {"status": "ok"}
