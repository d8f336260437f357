"""The Compose deploy against a real registry and engine: pull, up, health, roll back."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.deploy.conftest import REPO_ROOT, clean_environ
from tests.release.registry import LocalRegistry

COMPOSE_DIR = Path(__file__).resolve().parent / "compose"


@dataclass
class ComposeStack:
    """One compose project on the engine, fed from one registry."""

    registry: LocalRegistry
    name: str
    env: dict[str, str]

    def docker(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            ["docker", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if check and done.returncode != 0:
            raise AssertionError(f"docker {' '.join(args)}: {done.stderr}")
        return done

    def ref(self, tag: str) -> str:
        return f"{self.registry.host}/{self.name}:{tag}"

    def publish(self, tag: str, *, healthy: bool) -> str:
        """Build, push and forget locally an image; its image id."""
        self.docker(
            "build",
            "-q",
            "--build-arg",
            f"HEALTHY={int(healthy)}",
            "--build-arg",
            f"VERSION={tag}",
            "-t",
            self.ref(tag),
            str(COMPOSE_DIR),
        )
        image_id = self.docker("image", "inspect", "--format", "{{.Id}}", self.ref(tag)).stdout
        self.docker("push", self.ref(tag))
        self.docker("image", "rm", self.ref(tag))
        return image_id.strip()

    def deploy(self, version: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "tools.deploy", "compose-deploy", "--version", version],
            cwd=REPO_ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    def running(self) -> tuple[str, str, str]:
        """(image reference, image id, health) of the web service's container."""
        container = self.docker(
            "ps", "-q", "--filter", f"label=com.docker.compose.project={self.name}"
        ).stdout.split()
        assert len(container) == 1, container
        fields = self.docker(
            "inspect",
            "--format",
            "{{.Config.Image}} {{.Image}} {{.State.Health.Status}}",
            container[0],
        ).stdout.split()
        return fields[0], fields[1], fields[2]


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[ComposeStack]:
    name = f"ptct{uuid.uuid4().hex[:10]}"
    registry = LocalRegistry(tmp_path / "registry", "deploy", "deployer", uuid.uuid4().hex)
    registry.start()
    env = {
        **clean_environ(),
        "DOCKER_CONFIG": str(tmp_path / "docker-config"),  # logins stay in this test
        "REGISTRY": registry.host,
        "BUILD_IMAGE_NAME": name,
        "DEPLOY_COMPOSE_FILE": str(COMPOSE_DIR / "compose.yaml"),
        "DEPLOY_COMPOSE_PROJECT": name,
        "DEPLOY_HEALTH_TIMEOUT": "60",
        "PYTHONPATH": str(REPO_ROOT),
    }
    result = ComposeStack(registry=registry, name=name, env=env)
    login = subprocess.run(
        ["docker", "login", registry.host, "-u", registry.user, "--password-stdin"],
        input=registry.password,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert login.returncode == 0, login.stderr
    try:
        yield result
    finally:
        subprocess.run(
            ["docker-compose", "-f", env["DEPLOY_COMPOSE_FILE"], "-p", name, "down", "-t", "2"],
            env={**env, "VERSION": "x"},
            capture_output=True,
            timeout=120,
            check=False,
        )
        listed = result.docker("image", "ls", "--format", "{{.Repository}}:{{.Tag}}").stdout
        refs = [ref for ref in listed.split() if f"/{name}:" in ref]
        if refs:
            result.docker("image", "rm", "--force", *refs, check=False)
        registry.stop()


def test_should_deploy_and_roll_back_an_unhealthy_version(stack: ComposeStack) -> None:
    v1 = stack.publish("v1", healthy=True)
    stack.publish("v2", healthy=True)
    stack.publish("v3-broken", healthy=False)

    first = stack.deploy("v1")

    assert first.returncode == 0, first.stderr
    assert stack.running() == (stack.ref("v1"), v1, "healthy")

    broken = stack.deploy("v3-broken")

    assert broken.returncode == 1
    last = broken.stderr.strip().splitlines()[-1]
    assert last.startswith("deploy: error: compose-deploy: web v3-broken is not healthy")
    assert last.endswith("rolled back to the previous image")
    assert stack.running() == (stack.ref("rollback"), v1, "healthy")

    fixed = stack.deploy("v2")

    assert fixed.returncode == 0, fixed.stderr
    image, _, health = stack.running()
    assert (image, health) == (stack.ref("v2"), "healthy")


def test_should_keep_the_running_version_when_the_pull_fails(stack: ComposeStack) -> None:
    v1 = stack.publish("v1", healthy=True)
    assert stack.deploy("v1").returncode == 0

    missing = stack.deploy("v404")

    assert missing.returncode == 1
    assert "docker compose pull (v404) failed" in missing.stderr.strip().splitlines()[-1]
    assert stack.running() == (stack.ref("v1"), v1, "healthy")


def test_should_need_a_compose_file(stack: ComposeStack) -> None:
    env = {**stack.env, "DEPLOY_COMPOSE_FILE": os.devnull + ".missing"}
    done = subprocess.run(
        [sys.executable, "-m", "tools.deploy", "compose-deploy"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 1
    assert "no compose file at /dev/null.missing" in done.stderr
