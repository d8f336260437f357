"""Every release command checks its variables and build record before touching docker.

These need no Docker engine (each fails before docker is called), so they also run in
plain ``make test``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.release.conftest import ReleaseRun

ALL_COMMANDS = [
    "build",
    "run",
    "push",
    "tag-latest",
    "push-latest",
    "tag-prod",
    "push-prod",
    "tag-prod-latest",
    "push-prod-latest",
    "pipeline",
    "pipeline-prod",
    "pipeline-all",
    "pipeline-rebuild",
    "pipeline-prod-rebuild",
    "pipeline-all-rebuild",
]
DEV_LOGIN = ["push", "push-latest", "pipeline", "pipeline-all", "pipeline-rebuild"]
PROD_HOST = ["tag-prod", "push-prod", "tag-prod-latest", "push-prod-latest", "pipeline-prod"]
PROD_LOGIN = ["push-prod", "push-prod-latest", "pipeline-prod", "pipeline-prod-rebuild"]
NEEDS_BUILD = ["run", "push", "tag-latest", "push-latest", *PROD_HOST[:4]]
DEV = {"DOCKER_REGISTRY": "registry.invalid:5000"}
DEV_CREDS = {**DEV, "DOCKER_REGISTRY_USER": "u", "DOCKER_REGISTRY_PASS": "p"}
PROD = {"DOCKER_REGISTRY_PROD": "prod.invalid:5000"}
PROD_CREDS = {**PROD, "DOCKER_REGISTRY_PROD_USER": "u", "DOCKER_REGISTRY_PROD_PASS": "p"}


def one_error_line(done: object) -> str:
    """The single stderr line of a failed command (asserting there is exactly one)."""
    assert getattr(done, "returncode") == 1  # noqa: B009 - CompletedProcess
    lines = getattr(done, "stderr").strip().splitlines()  # noqa: B009
    assert len(lines) == 1, lines
    assert lines[0].startswith("release: error: ")
    return str(lines[0])


def test_should_list_every_command_in_help(bare_release: ReleaseRun) -> None:
    done = bare_release("--help")

    assert done.returncode == 0
    for command in ALL_COMMANDS:
        assert command in done.stdout
    assert "DOCKER_REGISTRY_PROD_PASS" in done.stdout


def test_should_reject_an_unknown_command_with_usage(bare_release: ReleaseRun) -> None:
    done = bare_release("deploy-to-the-moon")

    assert done.returncode == 2
    assert "invalid choice" in done.stderr


@pytest.mark.parametrize("command", ALL_COMMANDS)
def test_should_name_docker_registry_when_it_is_missing(
    bare_release: ReleaseRun, command: str
) -> None:
    line = one_error_line(bare_release(command))

    assert f"error: {command}: DOCKER_REGISTRY is not set" in line


@pytest.mark.parametrize("command", DEV_LOGIN)
@pytest.mark.parametrize("missing", ["DOCKER_REGISTRY_USER", "DOCKER_REGISTRY_PASS"])
def test_should_name_the_dev_credentials_when_one_is_missing(
    bare_release: ReleaseRun, command: str, missing: str
) -> None:
    env = {**DEV_CREDS, **PROD_CREDS, missing: ""}

    line = one_error_line(bare_release(command, **env))

    assert "DOCKER_REGISTRY_USER and DOCKER_REGISTRY_PASS must both be set" in line


@pytest.mark.parametrize("command", PROD_HOST)
def test_should_name_docker_registry_prod_when_it_is_missing(
    bare_release: ReleaseRun, command: str
) -> None:
    line = one_error_line(bare_release(command, **DEV_CREDS))

    assert "DOCKER_REGISTRY_PROD is not set" in line


@pytest.mark.parametrize("command", PROD_LOGIN)
@pytest.mark.parametrize("missing", ["DOCKER_REGISTRY_PROD_USER", "DOCKER_REGISTRY_PROD_PASS"])
def test_should_name_the_prod_credentials_when_one_is_missing(
    bare_release: ReleaseRun, command: str, missing: str
) -> None:
    env = {**DEV_CREDS, **PROD_CREDS, missing: ""}

    line = one_error_line(bare_release(command, **env))

    assert "DOCKER_REGISTRY_PROD_USER and DOCKER_REGISTRY_PROD_PASS must both be set" in line


@pytest.mark.parametrize("command", NEEDS_BUILD)
def test_should_ask_for_a_build_first_when_none_is_recorded(
    bare_release: ReleaseRun, command: str
) -> None:
    line = one_error_line(bare_release(command, **DEV_CREDS, **PROD_CREDS))

    assert "no build recorded" in line
    assert "run `build` first" in line


def test_should_refuse_a_pipeline_whose_later_step_lacks_credentials_before_building(
    bare_release: ReleaseRun,
) -> None:
    done = bare_release("pipeline-all-rebuild", **DEV_CREDS, **PROD)

    assert "DOCKER_REGISTRY_PROD_USER" in one_error_line(done)
    assert not bare_release.state_dir.exists()


def test_should_refuse_a_build_record_of_another_image(
    bare_release: ReleaseRun, tmp_path: Path
) -> None:
    bare_release.state_dir.mkdir()
    (bare_release.state_dir / ".docker_build_image").write_text("page-tracker\n")
    (bare_release.state_dir / ".docker_build_version").write_text("0.1.0-abcdef0-1\n")

    line = one_error_line(bare_release("push", "--image", "other", **DEV_CREDS))

    assert "the recorded build is page-tracker, not other" in line


def test_should_refuse_a_corrupt_build_record(bare_release: ReleaseRun) -> None:
    bare_release.state_dir.mkdir()
    (bare_release.state_dir / ".docker_build_image").write_text("page-tracker\n")
    (bare_release.state_dir / ".docker_build_version").write_text("not a tag!\n")

    line = one_error_line(bare_release("tag-latest", **DEV))

    assert "invalid tag" in line


def test_should_refuse_to_build_without_a_dockerfile(
    bare_release: ReleaseRun, tmp_path: Path
) -> None:
    line = one_error_line(bare_release("build", "--context", str(tmp_path), **DEV))

    assert f"no Dockerfile at {tmp_path / 'Dockerfile'}" in line
