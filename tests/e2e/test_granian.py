"""``page-tracker serve``: the app behind granian's HTTP server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.e2e.server import Server


@pytest.fixture(scope="module")
def granian(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    workdir: Path = tmp_path_factory.mktemp("granian")
    server = Server(
        workdir,
        {"PAGE_TRACKER_ENV": "production", "SECRET_KEY": "e2e-" + "k" * 32},
        extra_args=("--threads", "8"),
    )
    migrated = server.run_cli("db", "upgrade")
    assert migrated.returncode == 0, migrated.stderr
    yield server.start()
    server.stop()


def test_should_serve_the_seed_page_and_health_under_granian(granian: Server) -> None:
    first = requests.get(f"{granian.url}/", timeout=5)
    second = requests.get(f"{granian.url}/", timeout=5)

    assert first.status_code == 200
    assert first.text == "This page has been seen 1 times."
    assert second.text == "This page has been seen 2 times."
    assert requests.get(f"{granian.url}/healthz", timeout=5).json() == {"status": "ok"}


def test_should_answer_unknown_api_paths_with_the_json_error_shape(granian: Server) -> None:
    response = requests.get(f"{granian.url}/api/v1/nope", timeout=5)

    assert response.status_code == 404
    assert response.json()["code"] == 404


def test_should_write_granian_lines_into_the_app_log(granian: Server) -> None:
    log = (granian.workdir / "log" / "page-tracker.log").read_text()

    assert "_granian" in log
    assert "Listening at" in log
