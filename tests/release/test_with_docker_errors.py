"""Failures that only a real engine and registry can produce: each is one clear line."""

from __future__ import annotations

import pytest

from tests.e2e.server import free_port
from tests.release.conftest import CONTEXT, ReleaseRun, docker
from tests.release.registry import LocalRegistry


def error_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert lines, "no error output"
    assert lines[-1].startswith("release: error: ")
    return lines[-1]


@pytest.mark.parametrize(
    ("command", "password_variable"),
    [
        ("push", "DOCKER_REGISTRY_PASS"),
        ("push-latest", "DOCKER_REGISTRY_PASS"),
        ("push-prod", "DOCKER_REGISTRY_PROD_PASS"),
        ("push-prod-latest", "DOCKER_REGISTRY_PROD_PASS"),
    ],
)
def test_should_fail_with_one_line_on_a_wrong_password(
    release: ReleaseRun,
    registries: tuple[LocalRegistry, LocalRegistry],
    command: str,
    password_variable: str,
) -> None:
    dev, prod = registries
    assert release("build").returncode == 0
    for tag_step in ("tag-latest", "tag-prod", "tag-prod-latest"):
        assert release(tag_step).returncode == 0

    done = release(command, **{password_variable: "wrong-password"})

    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert "failed: " in lines[0]
    assert "docker login to 127.0.0.1:" in lines[0]
    assert "401 Unauthorized" in lines[0]
    assert dev.tags(release.image_name) == set()
    assert prod.tags(release.image_name) == set()


def test_should_fail_to_log_in_to_a_registry_that_does_not_answer(release: ReleaseRun) -> None:
    closed = f"127.0.0.1:{free_port()}"
    assert release("build", DOCKER_REGISTRY=closed).returncode == 0

    done = release("push", DOCKER_REGISTRY=closed)

    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert f"docker login to {closed} as " in lines[0]
    assert "connection refused" in lines[0]


def test_should_stop_a_pipeline_at_a_failed_login_before_pushing(
    release: ReleaseRun, registries: tuple[LocalRegistry, LocalRegistry]
) -> None:
    dev, prod = registries
    port = free_port()
    closed = f"127.0.0.1:{port}"
    assert release("build", DOCKER_REGISTRY=closed).returncode == 0

    done = release("pipeline-all", DOCKER_REGISTRY=closed)

    assert done.returncode == 1
    assert f"docker login to {closed} as {dev.user} failed" in error_line(done.stderr)
    assert prod.tags(release.image_name) == set()


def test_should_ask_for_a_build_when_the_recorded_image_was_removed(release: ReleaseRun) -> None:
    assert release("build").returncode == 0
    docker("image", "rm", "--force", release("show").stdout.strip())

    for command in ("run", "push", "tag-latest", "tag-prod", "push-prod-latest"):
        done = release(command)
        assert done.returncode == 1
        assert "is not in the local docker engine: run `build` first" in error_line(done.stderr)


def test_should_keep_the_previous_record_when_a_build_fails(release: ReleaseRun) -> None:
    assert release("build").returncode == 0
    previous = release.recorded_version()

    done = release("build", "--dockerfile", str(CONTEXT / "Dockerfile.broken"))

    assert done.returncode == 1
    assert "docker build of " in error_line(done.stderr)
    assert "failed (docker exit status" in error_line(done.stderr)
    assert release.recorded_version() == previous
