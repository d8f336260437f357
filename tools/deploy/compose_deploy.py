"""The Compose deployment: pull a released image, ``up -d``, health check, roll back.

Works on the Docker host it is pointed at (the local engine, or a remote one with
``DOCKER_HOST=ssh://user@host``). The compose file names the image as
``${REGISTRY}/page-tracker:${VERSION:-latest}`` (``deploy/compose.yaml``). Before the new
version starts, the image the service runs now is tagged ``${REGISTRY}/page-tracker:
rollback``, so a failed health check returns to exactly that image even when both were
``latest``.
"""

from __future__ import annotations

import os
import shutil
import subprocess  # the docker CLI is the interface  # nosec B404
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tools.deploy.errors import DeployError
from tools.release.settings import PROJECT_ROOT
from tools.release.state import read_record

ROLLBACK_TAG = "rollback"


@dataclass(frozen=True)
class ComposeTarget:
    """What to deploy where: compose file, project, service, registry, version."""

    compose_file: Path
    project: str
    service: str
    registry: str
    version: str
    image_name: str
    timeout: float

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, version: str | None = None
    ) -> ComposeTarget:
        """``REGISTRY`` (else ``DOCKER_REGISTRY_PROD``, ``DOCKER_REGISTRY``), ``VERSION``
        (else the release tool's recorded build, else ``latest``), ``DEPLOY_COMPOSE_*``."""
        env = os.environ if environ is None else environ
        registry = (
            env.get("REGISTRY") or env.get("DOCKER_REGISTRY_PROD") or env.get("DOCKER_REGISTRY")
        )
        if not registry:
            raise DeployError("REGISTRY is not set: the registry to pull page-tracker from")
        record = read_record(Path(env.get("RELEASE_STATE_DIR") or PROJECT_ROOT))
        chosen = version or env.get("VERSION") or (record.version if record else "latest")
        compose_file = Path(env.get("DEPLOY_COMPOSE_FILE") or PROJECT_ROOT / "deploy/compose.yaml")
        if not compose_file.is_file():
            raise DeployError(f"no compose file at {compose_file} (DEPLOY_COMPOSE_FILE)")
        timeout = env.get("DEPLOY_HEALTH_TIMEOUT", "120")
        return cls(
            compose_file=compose_file,
            project=env.get("DEPLOY_COMPOSE_PROJECT") or "page-tracker",
            service=env.get("DEPLOY_COMPOSE_SERVICE") or "web",
            registry=registry.rstrip("/"),
            version=chosen,
            image_name=env.get("BUILD_IMAGE_NAME") or "page-tracker",
            timeout=float(timeout) if timeout.replace(".", "", 1).isdigit() else 120.0,
        )

    def ref(self, tag: str) -> str:
        return f"{self.registry}/{self.image_name}:{tag}"


class ComposeDeployment:
    """``docker compose`` driven step by step, with a rollback on a failed health check."""

    def __init__(self, target: ComposeTarget) -> None:
        self.target = target

    def _compose_argv(self) -> list[str]:
        docker = shutil.which("docker")
        if docker and _succeeds([docker, "compose", "version"]):
            return [docker, "compose"]
        legacy = shutil.which("docker-compose")
        if legacy is None:
            raise DeployError("neither `docker compose` nor `docker-compose` is installed")
        return [legacy]

    def compose(self, *args: str, version: str, capture: bool = False) -> str:
        target = self.target
        env = {**os.environ, "REGISTRY": target.registry, "VERSION": version}
        argv = [*self._compose_argv(), "-f", str(target.compose_file), "-p", target.project]
        done = subprocess.run(  # noqa: S603  # nosec B603
            [*argv, *args], env=env, capture_output=capture, text=True, check=False
        )
        if done.returncode != 0:
            # with capture, docker's reason; otherwise it was just shown above this line
            detail = (done.stderr or "").strip().splitlines()[-1:]
            reason = f": {detail[0]}" if detail else f" (exit status {done.returncode})"
            raise DeployError(f"docker compose {args[0]} ({version}) failed{reason}")
        return done.stdout or ""

    def _docker(self, *args: str) -> str:
        docker = shutil.which("docker") or "docker"
        done = subprocess.run(  # noqa: S603  # nosec B603
            [docker, *args], capture_output=True, text=True, check=False
        )
        return done.stdout.strip() if done.returncode == 0 else ""

    def container(self) -> str:
        return self.compose("ps", "-q", self.target.service, version="unused", capture=True).strip()

    def wait_healthy(self, version: str) -> None:
        """The service's container healthy (its HEALTHCHECK), else DeployError."""
        deadline = time.monotonic() + self.target.timeout
        state = "no container"
        while time.monotonic() < deadline:
            container = self.container()
            if container:
                state = self._docker(
                    "inspect",
                    "--format",
                    "{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}",
                    container,
                )
                if state in {"running healthy", "running"}:  # healthy, or no HEALTHCHECK
                    return
                if state.startswith(("exited", "dead")) or state.endswith("unhealthy"):
                    break
            time.sleep(1)
        raise DeployError(f"{self.target.service} {version} is not healthy ({state.strip()})")

    def deploy(self) -> str:
        """Pull and start ``target.version``; on failure go back to the previous image."""
        target = self.target
        current = self.container()
        previous_image = (
            self._docker("inspect", "--format", "{{.Image}}", current) if current else ""
        )
        if previous_image:
            self._docker("tag", previous_image, target.ref(ROLLBACK_TAG))
        _say(f"pulling {target.ref(target.version)}")
        self.compose("pull", target.service, version=target.version)
        _say(f"starting {target.version}")
        self.compose("up", "-d", version=target.version)
        try:
            self.wait_healthy(target.version)
        except DeployError as failure:
            if not previous_image:
                raise
            _say(f"{failure}; rolling back to the previous image")
            self.compose("up", "-d", version=ROLLBACK_TAG)
            self.wait_healthy(ROLLBACK_TAG)
            raise DeployError(f"{failure}; rolled back to the previous image") from failure
        _say(f"deployed {target.ref(target.version)}")
        return target.version


def _succeeds(argv: list[str]) -> bool:
    done = subprocess.run(argv, capture_output=True, check=False)  # noqa: S603  # nosec B603
    return done.returncode == 0


def _say(message: str) -> None:
    print(f"deploy[compose]: {message}", file=sys.stderr, flush=True)
