"""Start a real ``page-tracker serve`` (granian, as ``make run`` and the image start it) in a
subprocess for end-to-end tests."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def page_tracker_command() -> list[str]:
    """The installed console script, next to this interpreter."""
    script = Path(sys.executable).with_name("page-tracker")
    return [str(script)] if script.exists() else [shutil.which("page-tracker") or "page-tracker"]


class Server:
    """One ``page-tracker serve`` process; ``url`` is its base URL once :meth:`start` returned."""

    def __init__(
        self,
        workdir: Path,
        env: dict[str, str],
        workers: int | None = 2,
        extra_args: tuple[str, ...] = (),
    ) -> None:
        self.workdir = workdir
        self.env = env
        self.workers = workers  # None: the server's own default, as `make run` starts it
        self.extra_args = extra_args  # e.g. ("--threads", "16")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.output = workdir / "server.out"

    def run_cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*page_tracker_command(), *args],
            cwd=self.workdir,
            env=self._environ(),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def _environ(self) -> dict[str, str]:
        return {**os.environ, "LOG_DIR": str(self.workdir / "log"), **self.env}

    def start(self, timeout: float = 30) -> Server:
        with self.output.open("ab") as out:
            self.process = subprocess.Popen(
                [
                    *page_tracker_command(),
                    "serve",
                    "--port",
                    str(self.port),
                    *(() if self.workers is None else ("--workers", str(self.workers))),
                    *self.extra_args,
                ],
                cwd=self.workdir,
                env=self._environ(),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.output.read_text()[-2000:]}")
            try:
                if requests.get(f"{self.url}/healthz", timeout=1).ok:
                    return self
            except requests.ConnectionError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not start: {self.output.read_text()[-2000:]}")

    def kill(self) -> None:
        """SIGKILL the server and its workers at once (no graceful shutdown)."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)
