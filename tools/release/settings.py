"""Where the release commands read their configuration: the environment (seed 003's names).

Nothing is validated up front: each command asks for exactly the values it needs through
the ``require_*`` methods, so ``build`` works without production credentials and ``push``
names the one variable that is missing.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tools.release.errors import ReleaseError

#: Root of the repository (``tools/release/settings.py`` -> three levels up).
PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_IMAGE_NAME = "page-tracker"


@dataclass(frozen=True)
class Registry:
    """One registry: ``host[:port]`` plus the credentials ``docker login`` needs."""

    host: str
    user: str
    password: str


@dataclass(frozen=True)
class ReleaseSettings:
    """The environment of one release command, with command-line overrides applied."""

    registry: str
    registry_user: str
    registry_pass: str
    registry_prod: str
    registry_prod_user: str
    registry_prod_pass: str
    namespace: str
    image_name: str
    image_name_given: bool
    context: Path
    dockerfile: Path
    state_dir: Path

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str] | None = None,
        *,
        image: str | None = None,
        context: Path | None = None,
        dockerfile: Path | None = None,
        state_dir: Path | None = None,
    ) -> ReleaseSettings:
        """Read ``DOCKER_REGISTRY*``, ``BUILD_*`` and ``RELEASE_STATE_DIR``; options win."""
        env = os.environ if env is None else env

        def get(name: str) -> str:
            return env.get(name, "").strip()

        image_name = image or get("BUILD_IMAGE_NAME")
        build_context = context or Path(get("BUILD_CONTEXT") or PROJECT_ROOT)
        build_dockerfile = dockerfile or (
            Path(get("BUILD_DOCKERFILE")) if get("BUILD_DOCKERFILE") else None
        )
        return cls(
            registry=get("DOCKER_REGISTRY").rstrip("/"),
            registry_user=get("DOCKER_REGISTRY_USER"),
            registry_pass=env.get("DOCKER_REGISTRY_PASS", ""),
            registry_prod=get("DOCKER_REGISTRY_PROD").rstrip("/"),
            registry_prod_user=get("DOCKER_REGISTRY_PROD_USER"),
            registry_prod_pass=env.get("DOCKER_REGISTRY_PROD_PASS", ""),
            namespace=get("BUILD_NAMESPACE").strip("/"),
            image_name=image_name or DEFAULT_IMAGE_NAME,
            image_name_given=bool(image_name),
            context=build_context,
            dockerfile=build_dockerfile or build_context / "Dockerfile",
            state_dir=state_dir or Path(get("RELEASE_STATE_DIR") or PROJECT_ROOT),
        )

    @property
    def image(self) -> str:
        """Repository path inside a registry: ``[namespace/]name``."""
        return f"{self.namespace}/{self.image_name}" if self.namespace else self.image_name

    def require_registry(self) -> str:
        """The development registry, or fail naming ``DOCKER_REGISTRY``."""
        if not self.registry:
            raise ReleaseError(
                "DOCKER_REGISTRY is not set: export the development registry, "
                "e.g. DOCKER_REGISTRY=registry.example.com:5000"
            )
        return self.registry

    def require_registry_login(self) -> Registry:
        """Development registry and its credentials, or fail naming what is missing."""
        host = self.require_registry()
        if not self.registry_user or not self.registry_pass:
            raise ReleaseError(
                "DOCKER_REGISTRY_USER and DOCKER_REGISTRY_PASS must both be set "
                f"(credentials for {host})"
            )
        return Registry(host, self.registry_user, self.registry_pass)

    def require_registry_prod(self) -> str:
        """The production registry, or fail naming ``DOCKER_REGISTRY_PROD``."""
        if not self.registry_prod:
            raise ReleaseError(
                "DOCKER_REGISTRY_PROD is not set: export the production registry, "
                "e.g. DOCKER_REGISTRY_PROD=registry.prod.example.com:5000"
            )
        return self.registry_prod

    def require_registry_prod_login(self) -> Registry:
        """Production registry and its credentials, or fail naming what is missing."""
        host = self.require_registry_prod()
        if not self.registry_prod_user or not self.registry_prod_pass:
            raise ReleaseError(
                "DOCKER_REGISTRY_PROD_USER and DOCKER_REGISTRY_PROD_PASS must both be set "
                f"(credentials for {host})"
            )
        return Registry(host, self.registry_prod_user, self.registry_prod_pass)
