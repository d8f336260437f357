"""The compose stack's nginx configuration (``deploy/nginx/conf.d/default.conf``) run by a
real nginx in front of a stub upstream: what its access log holds, and which paths its
rate limit covers."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.e2e.server import free_port

ROOT = Path(__file__).resolve().parents[2]
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

pytestmark = pytest.mark.skipif(not Path(NGINX).exists(), reason="nginx is not installed")


@dataclass
class Nginx:
    url: str
    access_log: Path


def nginx_conf(workdir: Path, port: int, upstream: int, log_format: str) -> Path:
    site = (ROOT / "deploy" / "nginx" / "conf.d" / "default.conf").read_text()
    site = (
        site.replace("listen 80 default_server;", f"listen 127.0.0.1:{port} default_server;")
        .replace("http://web:8000", f"http://127.0.0.1:{upstream}")
        .replace("/var/log/nginx/access.log pt_private", f"{workdir}/access.log {log_format}")
    )
    assert f"127.0.0.1:{upstream}" in site
    assert f"{workdir}/access.log" in site
    (workdir / "site.conf").write_text(site)
    conf = workdir / "nginx.conf"
    conf.write_text(
        f"daemon off;\nworker_processes 1;\npid {workdir}/nginx.pid;\n"
        f"error_log {workdir}/error.log warn;\nevents {{ worker_connections 256; }}\n"
        "http {\n"
        + "".join(
            f"  {kind}_temp_path {workdir}/{kind};\n"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        + f"  include {workdir}/site.conf;\n"
        f"  server {{ listen 127.0.0.1:{upstream}; access_log off; return 204; }}\n"
        "}\n"
    )
    return conf


def start(workdir: Path, log_format: str = "pt_private") -> Iterator[Nginx]:
    port, upstream = free_port(), free_port()
    conf = nginx_conf(workdir, port, upstream, log_format)
    process = subprocess.Popen(
        [NGINX, "-c", str(conf), "-p", str(workdir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                requests.get(f"{url}/nginx-health", timeout=1)
                break
            except requests.ConnectionError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((workdir / "error.log").read_text()) from None
                time.sleep(0.05)
        yield Nginx(url, workdir / "access.log")
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)


@pytest.fixture
def nginx(tmp_path: Path) -> Iterator[Nginx]:
    yield from start(tmp_path)


CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.6367.91 Safari/537.36"
)


def logged_line(nginx: Nginx, request_id: str) -> str:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        text = nginx.access_log.read_text() if nginx.access_log.exists() else ""
        lines = [line for line in text.splitlines() if f"rid={request_id}" in line]
        if lines:
            return lines[0]
        time.sleep(0.05)
    raise AssertionError(f"no access line for {request_id}")


def test_should_log_no_reader_address_query_string_or_user_agent(nginx: Nginx) -> None:
    requests.get(
        f"{nginx.url}/count.gif?site=x&url=https%3A%2F%2Fblog.example%2F%3Ftoken%3Ds3cret",
        headers={
            "User-Agent": CHROME,
            "Referer": "https://blog.example/post?token=s3cret#top",
            "X-Request-ID": "nginx-private",
        },
        timeout=5,
    )
    line = logged_line(nginx, "nginx-private")
    assert line.startswith("127.0.0.0/24 - [")
    assert '"GET /count.gif HTTP/1.1" 204' in line
    assert '"https://blog.example/post" "Chrome/124"' in line
    for secret in ("127.0.0.1", "s3cret", "Windows", "6367"):
        assert secret not in line


def test_should_log_whole_lines_with_the_full_format(tmp_path: Path) -> None:
    for nginx in start(tmp_path, "pt_full"):
        requests.get(
            f"{nginx.url}/count.gif?url=s3cret",
            headers={"User-Agent": CHROME, "X-Request-ID": "nginx-full"},
            timeout=5,
        )
        line = logged_line(nginx, "nginx-full")
        assert line.startswith("127.0.0.1 - [")
        assert "url=s3cret" in line
        assert CHROME in line


@pytest.mark.parametrize(
    "path",
    ["/?jsonpCallback=cb", "/", "/busuanzi?jsonpCallback=cb", "/count.gif", "/api/event"],
)
def test_should_rate_limit_every_counting_path(nginx: Nginx, path: str) -> None:
    # 20 r/s with a burst of 100: 160 requests at once exceed it
    with requests.Session() as session:
        statuses = [session.get(f"{nginx.url}{path}", timeout=5).status_code for _ in range(160)]
    assert 429 in statuses
    assert statuses[:100] == [204] * 100


def test_should_not_rate_limit_other_paths(nginx: Nginx) -> None:
    with requests.Session() as session:
        statuses = {session.get(f"{nginx.url}/healthz", timeout=5).status_code for _ in range(160)}
    assert statuses == {204}
