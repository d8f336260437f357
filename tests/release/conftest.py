"""Fixtures for the release tool tests: a real Docker engine and two real registries.

The tests that need the docker-offline engine (``test_with_docker_*.py``) are collected
only with ``PT_RELEASE_TESTS=1``, which ``make test-release`` sets after starting the
engine; plain ``make test`` runs only the precondition tests, which need no engine.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.release.registry import LocalRegistry

if os.environ.get("PT_RELEASE_TESTS") != "1":
    collect_ignore_glob = ["test_with_docker_*.py"]

REPO_ROOT = Path(__file__).resolve().parents[2]
CONTEXT = Path(__file__).resolve().parent / "context"
RELEASE_VARIABLES = (
    "DOCKER_REGISTRY",
    "DOCKER_REGISTRY_USER",
    "DOCKER_REGISTRY_PASS",
    "DOCKER_REGISTRY_PROD",
    "DOCKER_REGISTRY_PROD_USER",
    "DOCKER_REGISTRY_PROD_PASS",
    "BUILD_IMAGE_NAME",
    "BUILD_NAMESPACE",
    "BUILD_CONTEXT",
    "BUILD_DOCKERFILE",
    "RELEASE_STATE_DIR",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/release" in str(item.path):
            item.add_marker(pytest.mark.timeout(300))


def docker(
    *args: str, check: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The docker CLI against the engine of this environment (DOCKER_HOST)."""
    done = subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=240, check=False, env=env
    )
    if check and done.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} failed: {done.stderr}")
    return done


@pytest.fixture(scope="session")
def docker_engine() -> None:
    """Fail (not skip) with a clear message when no engine answers: CI needs these tests."""
    done = docker("info", "--format", "{{.ServerVersion}}", check=False)
    if done.returncode != 0:
        pytest.fail(
            "no Docker engine answers (run `make test-release`, which starts docker-offline): "
            + done.stderr.strip()[-300:]
        )


@pytest.fixture(scope="session")
def registries(
    docker_engine: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LocalRegistry, LocalRegistry]]:
    """A development and a production registry, each with its own user and password."""
    root = tmp_path_factory.mktemp("registries")
    dev = LocalRegistry(root / "dev", "dev", "dev-user", "dev-" + uuid.uuid4().hex)
    prod = LocalRegistry(root / "prod", "prod", "prod-user", "prod-" + uuid.uuid4().hex)
    try:
        yield dev.start(), prod.start()
    finally:
        dev.stop()
        prod.stop()


@dataclass
class ReleaseRun:
    """Runs ``python -m tools.release`` as an operator would, in a given environment."""

    env: dict[str, str]
    state_dir: Path
    image_name: str

    def __call__(self, *args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "tools.release", *args],
            cwd=REPO_ROOT,
            env={**self.env, **extra_env},
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
        )

    def recorded_version(self) -> str:
        return (self.state_dir / ".docker_build_version").read_text().strip()


@pytest.fixture
def bare_release(tmp_path: Path) -> ReleaseRun:
    """The tool with none of the release variables set (error paths need no engine)."""
    env = {k: v for k, v in os.environ.items() if k not in RELEASE_VARIABLES}
    env["DOCKER_CONFIG"] = str(tmp_path / "docker-config")
    env["RELEASE_STATE_DIR"] = str(tmp_path / "state")
    env["PYTHONPATH"] = str(REPO_ROOT)
    return ReleaseRun(env=env, state_dir=tmp_path / "state", image_name="page-tracker")


@pytest.fixture
def release(
    bare_release: ReleaseRun, registries: tuple[LocalRegistry, LocalRegistry]
) -> Iterator[ReleaseRun]:
    """The tool configured for both test registries and the tiny test image.

    The image name is unique per test, so tests sharing one engine never see each
    other's tags; every local tag of it is removed afterwards.
    """
    dev, prod = registries
    name = f"pt-release-test-{uuid.uuid4().hex[:10]}"
    bare_release.image_name = name
    bare_release.env.update(
        DOCKER_REGISTRY=dev.host,
        DOCKER_REGISTRY_USER=dev.user,
        DOCKER_REGISTRY_PASS=dev.password,
        DOCKER_REGISTRY_PROD=prod.host,
        DOCKER_REGISTRY_PROD_USER=prod.user,
        DOCKER_REGISTRY_PROD_PASS=prod.password,
        BUILD_IMAGE_NAME=name,
        BUILD_CONTEXT=str(CONTEXT),
    )
    yield bare_release
    listed = docker("image", "ls", "--format", "{{.Repository}}:{{.Tag}}", check=False)
    refs = [ref for ref in listed.stdout.split() if f"/{name}:" in ref]
    if refs:
        docker("image", "rm", "--force", *refs, check=False)
