"""Deploy configuration errors: each stops before any connection with one clear line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.conftest import REPO_ROOT, clean_environ

VALID = "DEPLOY_HOST=host.invalid\nDEPLOY_DIR=/srv/pt\nPAGE_TRACKER_ENV=production\n"


def deploy_tool(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tools.deploy", *args],
        cwd=REPO_ROOT,
        env={**clean_environ(), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("deploy: error: ")
    return lines[0]


def env_file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "target.env"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_should_describe_every_command_in_help() -> None:
    done = deploy_tool("--help")

    assert done.returncode == 0
    for command in ("deploy", "rollback", "start", "stop", "restart", "status", "compose-deploy"):
        assert command in done.stdout


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_should_ship_a_complete_template_per_environment(environment: str) -> None:
    text = (REPO_ROOT / "deploy" / "env" / f"{environment}.env").read_text()

    for name in ("DEPLOY_HOST", "DEPLOY_DIR", "DEPLOY_PORT", "PAGE_TRACKER_ENV", "REDIS_URL"):
        assert f"\n{name}=" in text
    assert "\nSECRET_KEY=" not in text


def test_should_name_an_unknown_environment_and_list_the_known_ones() -> None:
    line = one_error_line(deploy_tool("--env", "moon", "status"))

    assert "no configuration " in line
    assert "moon.env (environments: production, staging)" in line


@pytest.mark.parametrize("missing", ["DEPLOY_HOST", "DEPLOY_DIR"])
def test_should_name_a_missing_required_setting(tmp_path: Path, missing: str) -> None:
    text = "".join(line + "\n" for line in VALID.splitlines() if not line.startswith(missing))

    line = one_error_line(deploy_tool("--env-file", env_file(tmp_path, text), "deploy"))

    assert f"{missing} is not set" in line


def test_should_let_the_environment_override_the_file(tmp_path: Path) -> None:
    path = env_file(tmp_path, VALID)

    line = one_error_line(deploy_tool("--env-file", path, "status", DEPLOY_SSH_PORT="twenty"))

    assert "DEPLOY_SSH_PORT must be a whole number, not 'twenty'" in line


def test_should_refuse_secrets_in_the_committed_configuration(tmp_path: Path) -> None:
    path = env_file(tmp_path, VALID + "SECRET_KEY=hunter2hunter2hunter2\n")

    line = one_error_line(deploy_tool("--env-file", path, "deploy"))

    assert "sets SECRET_KEY: secrets belong in shared/secrets.env on the host" in line


def test_should_refuse_unknown_programs(tmp_path: Path) -> None:
    path = env_file(tmp_path, VALID + "DEPLOY_PROGRAMS=web cron\n")

    line = one_error_line(deploy_tool("--env-file", path, "deploy"))

    assert "DEPLOY_PROGRAMS must name some of web, worker, beat" in line


def test_should_ask_for_the_registry_of_a_compose_deploy() -> None:
    line = one_error_line(deploy_tool("compose-deploy"))

    assert "REGISTRY is not set" in line
