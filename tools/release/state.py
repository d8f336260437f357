"""The build record: which image and tag the last ``build`` produced.

Seed 003 keeps it in two one-line files next to the script, and so do we:
``.docker_build_version`` (the unique tag) and ``.docker_build_image`` (the repository
path, ``[namespace/]name``). Every command after ``build`` reads them, so ``push``,
``tag-latest`` and the promotion to production always act on the exact image that was
built, never on a tag computed again later.
"""

from __future__ import annotations

import re
import shutil
import subprocess  # the docker and git CLIs are the interface  # nosec B404
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from tools.release.errors import ReleaseError

VERSION_FILE = ".docker_build_version"
IMAGE_FILE = ".docker_build_image"
# Docker tags: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


@dataclass(frozen=True)
class BuildRecord:
    """A recorded build: ``image`` (``[namespace/]name``) and its unique ``version`` tag."""

    image: str
    version: str

    def ref(self, registry: str, tag: str | None = None) -> str:
        """Full reference in ``registry``: ``registry/image:tag`` (default: the version)."""
        return f"{registry}/{self.image}:{tag or self.version}"


def read_record(state_dir: Path) -> BuildRecord | None:
    """The recorded build in ``state_dir``, or None when nothing was built there yet."""
    try:
        version = (state_dir / VERSION_FILE).read_text(encoding="utf-8").strip()
        image = (state_dir / IMAGE_FILE).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    if not version or not image:
        return None
    if not _TAG.match(version):
        raise ReleaseError(f"{state_dir / VERSION_FILE} holds an invalid tag {version!r}")
    return BuildRecord(image=image, version=version)


def write_record(state_dir: Path, record: BuildRecord) -> None:
    """Record a successful build (only called after ``docker build`` succeeded)."""
    state_dir.mkdir(parents=True, exist_ok=True)
    (state_dir / IMAGE_FILE).write_text(record.image + "\n", encoding="utf-8")
    (state_dir / VERSION_FILE).write_text(record.version + "\n", encoding="utf-8")


@dataclass(frozen=True)
class SourceInfo:
    """What the OCI labels of an image say about its source."""

    version: str  # the package version from pyproject.toml
    revision: str  # full git commit id
    short_revision: str
    source: str  # repository URL ([project.urls] Source)


def source_info(project_root: Path) -> SourceInfo:
    """Version from ``pyproject.toml`` and the git revision of ``project_root``."""
    try:
        with (project_root / "pyproject.toml").open("rb") as fh:
            project = tomllib.load(fh)["project"]
    except (OSError, KeyError, tomllib.TOMLDecodeError) as exc:
        raise ReleaseError(f"cannot read the version from {project_root}/pyproject.toml") from exc
    revision = _git(project_root, "rev-parse", "HEAD")
    return SourceInfo(
        version=str(project["version"]),
        revision=revision,
        short_revision=revision[:7],
        source=str(project.get("urls", {}).get("Source", "")),
    )


def new_version(info: SourceInfo, now: datetime | None = None) -> str:
    """The unique tag of a new build: ``<version>-<short sha>-<UTC yyyymmddThhmmssZ>``."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    tag = f"{info.version}-{info.short_revision}-{stamp}".replace("+", "_")
    if not _TAG.match(tag):
        raise ReleaseError(f"cannot make a docker tag from version {info.version!r}")
    return tag


def _git(cwd: Path, *args: str) -> str:
    git = shutil.which("git")
    if git is None:
        raise ReleaseError("git is not installed: it is needed for the build tag")
    done = subprocess.run(  # noqa: S603 (fixed argv, no shell)  # nosec B603
        [git, *args], cwd=cwd, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise ReleaseError(f"{cwd} is not a git checkout: the build tag needs its commit id")
    return done.stdout.strip()
