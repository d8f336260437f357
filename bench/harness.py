"""Processes the benchmarks start and stop: nginx, redis-server, page-tracker, wrk.

Everything binds 127.0.0.1 on free ports, lives in a temporary directory and is
stopped by the benchmark itself; every wrk run has a fixed duration.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):  # noqa: S310 - loopback only
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


class Process:
    """A background process in its own session, stopped with SIGTERM (then SIGKILL)."""

    def __init__(
        self, args: list[str], log: Path, env: dict[str, str] | None = None, cwd: Path | None = None
    ) -> None:
        self.log = log
        with log.open("ab") as out:
            self.popen = subprocess.Popen(  # noqa: S603 - fixed argument lists
                args,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=cwd,
                start_new_session=True,
            )

    def stop(self) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout=5)


def start_nginx(workdir: Path, workers: int = 1) -> tuple[Process, str]:
    """nginx answering every request with an empty 204: the HTTP ceiling."""
    port = free_port()
    (workdir / "logs").mkdir(parents=True, exist_ok=True)
    conf = workdir / "nginx.conf"
    conf.write_text(
        f"daemon off;\nworker_processes {workers};\npid {workdir}/nginx.pid;\n"
        f"error_log {workdir}/logs/error.log warn;\n"
        "events { worker_connections 1024; }\n"
        "http {\n  access_log off;\n"
        f"  client_body_temp_path {workdir}/body;\n"
        f"  server {{ listen 127.0.0.1:{port}; location / {{ return 204; }} }}\n}}\n"
    )
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    process = Process([nginx, "-c", str(conf), "-p", str(workdir)], workdir / "nginx.out")
    url = f"http://127.0.0.1:{port}"
    wait_http(f"{url}/")
    return process, url


def start_redis(workdir: Path, appendfsync: str | None = None) -> tuple[Process, str]:
    """A private redis-server; ``appendfsync`` (``always``/``everysec``) turns on the AOF."""
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    args = [
        shutil.which("redis-server") or "/usr/bin/redis-server",
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        str(workdir),
        "--save",
        "",
    ]
    args += (
        ["--appendonly", "yes", "--appendfsync", appendfsync]
        if appendfsync
        else ["--appendonly", "no"]
    )
    process = Process(args, workdir / "redis.out")
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                if sock.recv(16).startswith(b"+PONG"):
                    return process, url
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("redis-server did not start")


def page_tracker(args: list[str], env: dict[str, str], cwd: Path) -> str:
    """Run one ``page-tracker`` command; return its stdout."""
    done = subprocess.run(  # noqa: S603
        [str(BIN / "page-tracker"), *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"page-tracker {' '.join(args)} failed: {done.stderr[-2000:]}")
    return done.stdout


# What users start, as command lines (``{port}`` filled in) with extra environment:
# ``make run``'s ``page-tracker serve`` (the image's CMD and compose's ``web`` run the same
# command with ``--host 0.0.0.0``; compose's ``--workers 2 --threads 64`` are the defaults
# on 2 cores). The A/B of 2026-12-02 (bench/README.md, "Server choice") also ran gunicorn
# with the former ``deploy/gunicorn.conf.py``: ``[BIN/gunicorn, -c, deploy/gunicorn.conf.py,
# page_tracker.wsgi:app]`` with ``GUNICORN_HOST/PORT`` and ``GUNICORN_WORKERS=2
# GUNICORN_THREADS=4``; add such an entry to measure another server against it.
SERVER_COMMANDS: dict[str, tuple[list[str], dict[str, str]]] = {
    "serve": (
        [str(BIN / "page-tracker"), "serve", "--host", "127.0.0.1", "--port", "{port}"],
        {},
    ),
}


def server_command(
    name: str, port: int, extra: list[str] | None = None
) -> tuple[list[str], dict[str, str]]:
    """The command line and extra environment of ``SERVER_COMMANDS[name]`` on ``port``."""
    args, env = SERVER_COMMANDS[name]
    filled = [arg.replace("{port}", str(port)) for arg in args] + list(extra or [])
    return filled, {key: value.replace("{port}", str(port)) for key, value in env.items()}


def start_server(
    env: dict[str, str],
    cwd: Path,
    server: str = "serve",
    extra: list[str] | None = None,
) -> tuple[Process, str]:
    """Start ``SERVER_COMMANDS[server]`` (plus ``extra`` arguments) on a free port."""
    port = free_port()
    args, server_env = server_command(server, port, extra)
    process = Process(args, cwd / f"{server}.out", env={**env, **server_env}, cwd=cwd)
    url = f"http://127.0.0.1:{port}"
    wait_http(f"{url}/healthz", timeout=60)
    return process, url


@dataclass
class WrkResult:
    requests: int
    seconds: float
    errors: int
    non2xx: int
    p50_ms: float
    p99_ms: float
    max_ms: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def row(self) -> dict[str, Any]:
        return {
            "req/s": round(self.rate),
            "p50 ms": round(self.p50_ms, 2),
            "p99 ms": round(self.p99_ms, 2),
            "errors": self.errors,
            "requests": self.requests,
        }


_LINE = re.compile(r"^BENCH (.*)$", re.MULTILINE)


def wrk(
    url: str,
    script: Path,
    duration: int,
    *,
    connections: int = 64,
    threads: int = 2,
    env: dict[str, str] | None = None,
) -> WrkResult:
    """One bounded wrk run (``-d duration``) with ``--latency``."""
    args = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration}s",
        "--latency",
        "--timeout",
        "5s",
        "-s",
        str(script),
        url,
    ]
    done = subprocess.run(  # noqa: S603
        args,
        capture_output=True,
        text=True,
        timeout=duration + 60,
        check=True,
        env={**os.environ, **(env or {})},
    )
    match = _LINE.search(done.stdout)
    if match is None:
        raise RuntimeError(f"no result line from wrk: {done.stdout}\n{done.stderr}")
    values = dict(pair.split("=") for pair in match.group(1).split())
    return WrkResult(
        requests=int(values["requests"]),
        seconds=int(values["duration_us"]) / 1e6,
        errors=int(values["errors"]),
        non2xx=int(values["non2xx"]),
        p50_ms=int(values["p50_us"]) / 1000,
        p99_ms=int(values["p99_us"]) / 1000,
        max_ms=int(values["max_us"]) / 1000,
    )
