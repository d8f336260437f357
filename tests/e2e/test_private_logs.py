"""What a reader leaves in the log files of a real server (README "Privacy"):
no full address, no query string, no full User-Agent - unless LOG_FULL_ACCESS is on."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests

from tests.e2e.server import Server

READER_IP = "203.0.113.77"
USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.6367.91 Safari/537.36"
)
SECRETS = (READER_IP, "s3cret", "q=private+search", "Windows NT 10.0", "124.0.6367.91")


def visit(server: Server) -> None:
    """A pixel hit and a Busuanzi call whose URLs, Referer and headers carry secrets."""
    headers = {
        "User-Agent": USER_AGENT,
        "X-Forwarded-For": READER_IP,
        "Referer": "https://blog.example/post?token=s3cret#top",
        "X-Request-ID": "privacy-2",
    }
    requests.get(
        f"{server.url}/count.gif",
        params={"site": "nosuchsite", "url": "https://blog.example/post?token=s3cret"},
        headers={
            **headers,
            "X-Request-ID": "privacy-1",
            "Referer": "https://s.example/?q=private+search",
        },
        timeout=5,
    )
    requests.get(f"{server.url}/busuanzi?jsonpCallback=cb", headers=headers, timeout=5)


def logs_once_written(server: Server, within: float = 10.0) -> str:
    """Every log file's text once the last request's access line is in (the server writes
    it after the answer went out)."""
    deadline = time.monotonic() + within
    text = ""
    while time.monotonic() < deadline:
        text = "\n".join(p.read_text() for p in sorted((server.workdir / "log").glob("*.log")))
        if "[privacy-2]" in text:
            break
        time.sleep(0.05)
    return text


def started(workdir: Path, **env: str) -> Server:
    server = Server(
        workdir, {"TRUSTED_PROXIES": "1", **env}, workers=1, extra_args=("--access-log",)
    )
    migrated = server.run_cli("db", "upgrade")
    assert migrated.returncode == 0, migrated.stderr
    return server.start()


@pytest.mark.timeout(120)
def test_should_keep_readers_private_in_the_logs_by_default(tmp_path: Path) -> None:
    # Given a server with the default logging
    server = started(tmp_path)
    try:
        # When a reader's hits arrive
        visit(server)
        text = logs_once_written(server)
    finally:
        server.stop()
    # Then no log line holds their address, a query string or their full User-Agent
    assert "[privacy-1]" in text
    assert "[privacy-2]" in text
    for secret in SECRETS:
        assert secret not in text
    # And what an operator needs is still there: the networks, paths, product names
    access = [line for line in text.splitlines() if "[privacy-1]" in line]
    assert len(access) == 1
    assert "203.0.113.0/24" in access[0]
    assert '"GET /count.gif HTTP/1.1" 200' in access[0]
    assert '"https://s.example/"' in access[0]
    assert "Mozilla/5 AppleWebKit/537 Chrome/124 Safari/537" in access[0]


@pytest.mark.timeout(120)
def test_should_write_full_access_lines_when_the_operator_asks(tmp_path: Path) -> None:
    server = started(tmp_path, LOG_FULL_ACCESS="true")
    try:
        visit(server)
        text = logs_once_written(server)
    finally:
        server.stop()
    access = [line for line in text.splitlines() if "[privacy-1]" in line]
    assert len(access) == 1
    for secret in (READER_IP, "q=private+search", "s3cret", USER_AGENT):
        assert secret in access[0]
