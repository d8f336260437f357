"""granian's configuration (``page-tracker serve --server granian``)."""

from __future__ import annotations

from pathlib import Path

from page_tracker.serving import default_granian_workers, granian_server
from page_tracker.settings import load_settings


def test_should_use_one_worker_on_embedded_sqlite_and_one_per_core_in_redis_mode() -> None:
    embedded = load_settings(DATABASE_URL="sqlite:///x.sqlite3")
    redis_mode = load_settings(DATABASE_URL="sqlite:///x.sqlite3", REDIS_URL="redis://h:6379/0")

    assert default_granian_workers(embedded) == 1
    assert default_granian_workers(redis_mode) >= 1


def test_should_configure_a_wsgi_server_with_the_app_logging(tmp_path: Path) -> None:
    settings = load_settings(LOG_DIR=str(tmp_path / "log"), REDIS_URL="redis://h:6379/0")

    server = granian_server(settings, port=8123, workers=2, threads=32)

    assert (server.bind_port, server.workers, server.blocking_threads) == (8123, 2, 32)
    assert server.workers_kill_timeout == 15
    assert server.interface == "wsgi"
    assert server.log_config["loggers"]["_granian"]["propagate"] is False
    assert "access_file" in server.log_config["loggers"]["granian.access"]["handlers"]
