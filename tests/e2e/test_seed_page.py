"""The seed page over real HTTP (seed 001's end-to-end test, against `page-tracker serve`)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import requests

from tests.e2e.server import Server

SEEN = re.compile(r"^This page has been seen (\d+) times\.$")


def _read_when(path: Path, contains: str, within: float = 10.0) -> str:
    """The file's text once it holds ``contains`` (or when ``within`` seconds passed).

    The server writes the access line after the response went out, so a client can see
    the answer before the line is in the file.
    """
    deadline = time.monotonic() + within
    text = ""
    while time.monotonic() < deadline:
        text = path.read_text() if path.exists() else ""
        if contains in text:
            break
        time.sleep(0.05)
    return text


def test_should_update_redis_counter(flask_url: str) -> None:
    # Given
    first = requests.get(f"{flask_url}/", timeout=5)
    match = SEEN.match(first.text)
    assert first.status_code == 200
    assert match is not None
    before = int(match.group(1))
    # When
    responses = [requests.get(f"{flask_url}/", timeout=5) for _ in range(5)]
    # Then
    assert [r.text for r in responses] == [
        f"This page has been seen {before + n} times." for n in range(1, 6)
    ]


def test_should_report_health(flask_url: str) -> None:
    assert requests.get(f"{flask_url}/healthz", timeout=5).json() == {"status": "ok"}
    ready = requests.get(f"{flask_url}/readyz", timeout=5)
    assert ready.status_code == 200
    assert ready.json()["status"] == "ok"


def test_should_answer_json_errors_under_api(flask_url: str) -> None:
    response = requests.get(f"{flask_url}/api/v1/does-not-exist", timeout=5)
    assert response.status_code == 404
    assert response.json()["code"] == 404
    assert "Traceback" not in response.text


def test_should_echo_the_request_id(flask_url: str) -> None:
    response = requests.get(
        f"{flask_url}/healthz", headers={"X-Request-ID": "e2e-rid-1"}, timeout=5
    )
    assert response.headers["X-Request-ID"] == "e2e-rid-1"


def test_should_write_one_access_line_per_request_with_its_id(server: Server | None) -> None:
    if server is None:
        pytest.skip("the access log of a remote deployment is not readable from here")
    for n in range(3):
        requests.get(f"{server.url}/healthz", headers={"X-Request-ID": f"acc-{n}"}, timeout=5)
    access = _read_when(server.workdir / "log" / "access.log", contains="[acc-2]")
    for n in range(3):
        lines = [line for line in access.splitlines() if f"[acc-{n}]" in line]
        assert len(lines) == 1
        assert '"GET /healthz HTTP/1.1" 200' in lines[0]


def test_should_keep_counting_across_restarts(tmp_path: Path) -> None:
    local = Server(tmp_path, {})
    assert local.run_cli("db", "upgrade").returncode == 0
    local.start()
    assert requests.get(f"{local.url}/", timeout=5).text == "This page has been seen 1 times."
    local.stop()
    local.start()
    assert requests.get(f"{local.url}/", timeout=5).text == "This page has been seen 2 times."
    local.stop()
    assert (tmp_path / "var" / "page-tracker.sqlite3").exists()


def test_should_answer_500_and_log_when_redis_is_down(tmp_path: Path) -> None:
    local = Server(tmp_path, {"REDIS_URL": "redis://127.0.0.1:1/0"}, workers=1)
    assert local.run_cli("db", "upgrade").returncode == 0
    local.start()
    try:
        response = requests.get(f"{local.url}/", timeout=10)
    finally:
        local.stop()
    assert response.status_code == 500
    assert response.text == "Sorry, something went wrong \N{PENSIVE FACE}"
    error_log = (tmp_path / "log" / "error.log").read_text()
    assert "Traceback" in error_log
    assert "ConnectionError" in error_log


def test_should_refuse_to_start_in_production_without_a_secret(tmp_path: Path) -> None:
    result = Server(tmp_path, {"PAGE_TRACKER_ENV": "production", "SECRET_KEY": ""}).run_cli("serve")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "page-tracker: error: invalid configuration: "
        "SECRET_KEY: must be set to a non-default value in production"
    )
