"""Build, push, promote and pull through two real registries with a real Docker engine."""

from __future__ import annotations

import json
import re
import subprocess

from tests.release.conftest import REPO_ROOT, ReleaseRun, docker
from tests.release.registry import LocalRegistry

TAG = re.compile(r"^\d+\.\d+\.\d+[\w.]*-[0-9a-f]{7}-\d{8}T\d{6}Z$")


def labels(ref: str) -> dict[str, str]:
    inspected = docker("image", "inspect", "--format", "{{json .Config.Labels}}", ref)
    result: dict[str, str] = json.loads(inspected.stdout)
    return result


def head_revision() -> str:
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()


def forget_local_images(release: ReleaseRun) -> None:
    """Remove every local tag of the test image so a pull must fetch from a registry."""
    listed = docker("image", "ls", "--format", "{{.Repository}}:{{.Tag}}").stdout.split()
    refs = [ref for ref in listed if f"/{release.image_name}:" in ref]
    docker("image", "rm", "--force", *refs)


def test_should_build_with_a_unique_recorded_tag_and_oci_labels(
    release: ReleaseRun, registries: tuple[LocalRegistry, LocalRegistry]
) -> None:
    dev, _ = registries

    done = release("build")

    assert done.returncode == 0, done.stderr
    version = release.recorded_version()
    assert TAG.match(version), version
    assert version.split("-")[1] == head_revision()[:7]
    assert (release.state_dir / ".docker_build_image").read_text().strip() == release.image_name
    found = labels(f"{dev.host}/{release.image_name}:{version}")
    assert found["org.opencontainers.image.version"] == version
    assert found["org.opencontainers.image.revision"] == head_revision()
    assert found["org.opencontainers.image.source"].startswith("https://")
    shown = release("show")
    assert shown.stdout.strip() == f"{dev.host}/{release.image_name}:{version}"


def test_should_run_the_recorded_build(release: ReleaseRun) -> None:
    assert release("build").returncode == 0

    done = release("run", "--no-publish")

    assert done.returncode == 0, done.stderr
    assert "hello from the release test image" in done.stdout
    custom = release("run", "--no-publish", "--", "echo", "custom command")
    assert custom.stdout.strip() == "custom command"


def test_should_push_promote_and_pull_through_both_registries(
    release: ReleaseRun, registries: tuple[LocalRegistry, LocalRegistry]
) -> None:
    dev, prod = registries

    done = release("pipeline-all")

    assert done.returncode == 0, done.stderr
    version = release.recorded_version()
    assert dev.tags(release.image_name) == {version, "latest"}
    assert prod.tags(release.image_name) == {version, "latest"}

    forget_local_images(release)
    for ref in (
        f"{dev.host}/{release.image_name}:latest",
        f"{prod.host}/{release.image_name}:{version}",
        f"{prod.host}/{release.image_name}:latest",
    ):
        docker("pull", ref, env=release.env)  # with the logins the tool stored
        assert labels(ref)["org.opencontainers.image.version"] == version


def test_should_promote_only_to_production_in_pipeline_prod(
    release: ReleaseRun, registries: tuple[LocalRegistry, LocalRegistry]
) -> None:
    dev, prod = registries

    done = release("pipeline-prod", DOCKER_REGISTRY_USER="", DOCKER_REGISTRY_PASS="")

    assert done.returncode == 0, done.stderr
    assert dev.tags(release.image_name) == set()
    assert prod.tags(release.image_name) == {release.recorded_version(), "latest"}


def test_should_reuse_the_recorded_build_in_pipeline_and_rebuild_in_pipeline_rebuild(
    release: ReleaseRun, registries: tuple[LocalRegistry, LocalRegistry]
) -> None:
    dev, prod = registries
    assert release("build").returncode == 0
    built = release.recorded_version()

    reused = release("pipeline", DOCKER_REGISTRY_PROD="")

    assert reused.returncode == 0, reused.stderr
    assert "building" not in reused.stderr
    assert f"using the recorded build {built}" in reused.stderr
    assert dev.tags(release.image_name) == {built, "latest"}
    assert prod.tags(release.image_name) == set()

    rebuilt = release("pipeline-all-rebuild")

    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "release: building" in rebuilt.stderr
    version = release.recorded_version()
    assert {version, "latest"} <= dev.tags(release.image_name)
    assert prod.tags(release.image_name) == {version, "latest"}


def test_should_run_each_step_on_its_own(
    release: ReleaseRun, registries: tuple[LocalRegistry, LocalRegistry]
) -> None:
    dev, prod = registries
    assert release("build").returncode == 0
    version = release.recorded_version()

    for command in ("push", "tag-latest", "push-latest"):
        done = release(command)
        assert done.returncode == 0, (command, done.stderr)
    assert dev.tags(release.image_name) == {version, "latest"}

    for command in ("tag-prod", "push-prod"):
        done = release(command)
        assert done.returncode == 0, (command, done.stderr)
    assert prod.tags(release.image_name) == {version}

    for command in ("tag-prod-latest", "push-prod-latest"):
        done = release(command)
        assert done.returncode == 0, (command, done.stderr)
    assert prod.tags(release.image_name) == {version, "latest"}
