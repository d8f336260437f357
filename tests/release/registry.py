"""A real Docker registry (Debian's ``docker-registry``, distribution 2.8) for tests.

Each instance listens on a free 127.0.0.1 port over plain HTTP with htpasswd (bcrypt)
basic auth. dockerd treats 127.0.0.0/8 registries as insecure by default, so pushes
and pulls work without daemon configuration.
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
import time
from pathlib import Path

import bcrypt
import requests

from tests.e2e.server import free_port


class LocalRegistry:
    """One registry process with one user; ``host`` is ``127.0.0.1:<port>``."""

    def __init__(self, root: Path, name: str, user: str, password: str) -> None:
        self.root = root
        self.name = name
        self.user = user
        self.password = password
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30) -> LocalRegistry:
        executable = shutil.which("docker-registry") or "/usr/bin/docker-registry"
        self.root.mkdir(parents=True, exist_ok=True)
        hashed = bcrypt.hashpw(self.password.encode(), bcrypt.gensalt(rounds=5)).decode()
        (self.root / "htpasswd").write_text(f"{self.user}:{hashed}\n", encoding="utf-8")
        config = self.root / "config.yml"
        config.write_text(
            "version: 0.1\n"
            "log:\n  level: warn\n"
            f"storage:\n  filesystem:\n    rootdirectory: {self.root / 'data'}\n"
            f"http:\n  addr: {self.host}\n  secret: {secrets.token_hex(16)}\n"
            f"auth:\n  htpasswd:\n    realm: {self.name}\n    path: {self.root / 'htpasswd'}\n",
            encoding="utf-8",
        )
        with (self.root / "registry.log").open("ab") as log:
            self.process = subprocess.Popen(
                [executable, "serve", str(config)], stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"registry {self.name} exited: {self.log_tail()}")
            try:
                if requests.get(f"http://{self.host}/v2/", timeout=2).status_code == 401:
                    return self
            except requests.ConnectionError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"registry {self.name} did not answer: {self.log_tail()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def log_tail(self) -> str:
        path = self.root / "registry.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    def tags(self, repository: str) -> set[str]:
        """Tags the registry holds for ``repository`` (empty when it has none)."""
        response = requests.get(
            f"http://{self.host}/v2/{repository}/tags/list",
            auth=(self.user, self.password),
            timeout=10,
        )
        if response.status_code == 404:
            return set()
        response.raise_for_status()
        return set(response.json().get("tags") or [])
