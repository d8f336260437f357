"""Fixtures for the deployment tests: a real sshd and a temporary folder as the host.

The SSH tests (``test_with_sshd_*.py``) and the Compose tests (``test_with_docker_*.py``)
are collected only with ``PT_DEPLOY_TESTS=1``, which ``make test-deploy`` sets after
installing openssh-server and starting the docker-offline engine. Configuration errors
(``test_config.py``) need neither and run in plain ``make test`` too.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.deploy.sshd import LocalSshd
from tests.e2e.server import free_port

if os.environ.get("PT_DEPLOY_TESTS") != "1":
    collect_ignore_glob = ["test_with_*.py"]

REPO_ROOT = Path(__file__).resolve().parents[2]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/deploy" in str(item.path):
            item.add_marker(pytest.mark.timeout(600))


def clean_environ() -> dict[str, str]:
    """This environment without deploy, release or app configuration variables."""
    prefixes = ("DEPLOY_", "DOCKER_REGISTRY", "REGISTRY", "VERSION", "BUILD_", "RELEASE_")
    return {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}


@dataclass
class DeployHost:
    """A deploy target reached over SSH, with its configuration file and helpers."""

    root: Path
    sshd: LocalSshd
    port: int
    token: str
    settings: dict[str, str] = field(default_factory=dict)

    @property
    def directory(self) -> Path:
        return self.root / "host"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def write_env(self, **overrides: str) -> Path:
        """The environment's file (seed 004 style) with ``overrides`` applied."""
        values = {
            "DEPLOY_HOST": "127.0.0.1",
            "DEPLOY_USER": self.sshd.user,
            "DEPLOY_SSH_PORT": str(self.sshd.port),
            "DEPLOY_SSH_KEY": str(self.sshd.client_key),
            "DEPLOY_SSH_OPTIONS": self.sshd.ssh_options,
            "DEPLOY_DIR": str(self.directory),
            "DEPLOY_PYTHON": "/usr/bin/python3",
            "DEPLOY_PORT": str(self.port),
            "DEPLOY_WEB_WORKERS": "1",
            "DEPLOY_WORKER_CONCURRENCY": "1",
            # its own queue: the worker never takes tasks of other sessions on this Redis
            "DEPLOY_WORKER_ARGS": f"-Q pt-deploy-test-{self.token}",
            "DEPLOY_PROGRAMS": "web worker",
            "PAGE_TRACKER_ENV": "production",
            "REDIS_URL": "redis://127.0.0.1:6379/0",
            "REDIS_KEY_PREFIX": f"pt-deploy-test:{self.token}:",
            **self.settings,
            **overrides,
        }
        path = self.root / "test.env"
        path.write_text("".join(f"{k}={v}\n" for k, v in values.items()), encoding="utf-8")
        return path

    def tool(self, *args: str, **overrides: str) -> subprocess.CompletedProcess[str]:
        """``python -m tools.deploy --env-file <this host's file> ARGS``."""
        env_file = self.write_env(**overrides)
        return subprocess.run(
            [sys.executable, "-m", "tools.deploy", "--env-file", str(env_file), *args],
            cwd=REPO_ROOT,
            env=clean_environ(),
            capture_output=True,
            text=True,
            timeout=400,
            check=False,
        )

    def make(self, target: str) -> subprocess.CompletedProcess[str]:
        """``make TARGET`` with ``DEPLOY_ENV_FILE`` pointing at this host's file."""
        env = {**clean_environ(), "DEPLOY_ENV_FILE": str(self.write_env())}
        return subprocess.run(
            ["make", "--silent", "--no-print-directory", target],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=400,
            check=False,
        )


def wait_for_exit(pid_file: Path, timeout: float = 60) -> None:
    """Wait until the process named in ``pid_file`` (if any) has exited."""
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return
    deadline = time.monotonic() + timeout
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting for its reaper counts as exited)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@contextmanager
def deploy_target() -> Iterator[DeployHost]:
    """A fresh deploy target behind a fresh sshd; supervisord is stopped afterwards.

    A short /tmp path: supervisord's unix socket lives below it (107 characters at most).
    """
    root = Path(tempfile.mkdtemp(prefix="ptd-", dir="/tmp"))
    sshd = LocalSshd(root / "sshd").start()
    host = DeployHost(root=root, sshd=sshd, port=free_port(), token=uuid.uuid4().hex[:10])
    try:
        yield host
    finally:
        supervisorctl = host.directory / "supervisor" / "venv" / "bin" / "supervisorctl"
        conf = host.directory / "shared" / "supervisord.conf"
        pid_file = host.directory / "shared" / "run" / "supervisord.pid"
        if supervisorctl.exists() and conf.exists():
            subprocess.run(
                [str(supervisorctl), "-c", str(conf), "shutdown"],
                capture_output=True,
                timeout=60,
                check=False,
            )
            wait_for_exit(pid_file)
        sshd.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def shared_host() -> Iterator[DeployHost]:
    """One host for a module's tests (deploys are slow); each test reads its state first."""
    with deploy_target() as host:
        yield host
