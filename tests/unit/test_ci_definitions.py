"""The CI/CD definitions are valid: GitHub workflows pass actionlint and the bundled GitHub
workflow schema, ``.gitlab-ci.yml`` passes the bundled GitLab CI schema, and the pipelines
keep the shape the project relies on (test matrix, main-only pushes, trusted publishing).

Both tools run offline: actionlint is a static binary, and ``check-jsonschema
--builtin-schema`` uses the schemas vendored inside the package (nothing is fetched).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
GITLAB_CI = ROOT / ".gitlab-ci.yml"
BIN = Path(sys.executable).parent
WORKFLOW_FILES = sorted(WORKFLOWS.glob("*.yml"))

pytestmark = pytest.mark.timeout(120)


def _run(*args: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(arg) for arg in args], cwd=cwd, capture_output=True, text=True, timeout=90, check=False
    )


def actionlint(*files: Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    # shellcheck checks the run: scripts where it is installed (CI installs it).
    shellcheck = shutil.which("shellcheck") or ""
    return _run(
        BIN / "actionlint", "-no-color", "-pyflakes=", f"-shellcheck={shellcheck}", *files, cwd=cwd
    )


def check_schema(schema: str, *files: Path) -> subprocess.CompletedProcess[str]:
    return _run(BIN / "check-jsonschema", "--builtin-schema", schema, *files)


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


def triggers(workflow: dict[str, Any]) -> dict[str, Any]:
    """``on:`` is read as the boolean True by YAML 1.1 loaders."""
    value: dict[str, Any] = workflow.get("on", workflow.get(True))  # type: ignore[call-overload]
    return value


def test_should_have_the_four_workflows() -> None:
    assert {path.name for path in WORKFLOW_FILES} >= {
        "ci.yml",
        "release.yml",
        "codeql.yml",
        "docs.yml",
    }


@pytest.mark.parametrize("workflow", WORKFLOW_FILES, ids=lambda path: path.name)
def test_should_pass_actionlint(workflow: Path) -> None:
    result = actionlint(workflow)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("workflow", WORKFLOW_FILES, ids=lambda path: path.name)
def test_should_match_the_github_workflow_schema(workflow: Path) -> None:
    result = check_schema("vendor.github-workflows", workflow)
    assert result.returncode == 0, result.stdout + result.stderr


def test_should_match_the_gitlab_ci_schema() -> None:
    result = check_schema("vendor.gitlab-ci", GITLAB_CI)
    assert result.returncode == 0, result.stdout + result.stderr


COMPOSE_FILES = ("compose.yaml", "compose.postgres.yaml", "deploy/compose.yaml")


@pytest.mark.parametrize("name", COMPOSE_FILES)
def test_should_match_the_compose_specification(name: str) -> None:
    result = check_schema("vendor.compose-spec", ROOT / name)
    assert result.returncode == 0, result.stdout + result.stderr


def test_should_match_the_dependabot_schema() -> None:
    result = check_schema("vendor.dependabot", ROOT / ".github" / "dependabot.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_should_reference_only_existing_gitlab_jobs_templates_and_stages() -> None:
    """What the schema cannot see: ``needs``/``extends``/``stage`` must name real things."""
    gitlab = load(GITLAB_CI)
    keywords = {"workflow", "stages", "variables", "default", "include", "image", "services"}
    entries = {name: body for name, body in gitlab.items() if name not in keywords}
    jobs = {name for name in entries if not name.startswith(".")}
    for name, body in entries.items():
        extends = body.get("extends", [])
        for template in [extends] if isinstance(extends, str) else extends:
            assert template in entries, f"{name} extends unknown {template}"
        for need in body.get("needs", []):
            needed = need if isinstance(need, str) else need["job"]
            assert needed in jobs, f"{name} needs unknown job {needed}"
        if name in jobs and "stage" in body:
            assert body["stage"] in gitlab["stages"], f"{name}: unknown stage {body['stage']}"
    assert {entries[job].get("stage") for job in jobs if "stage" in entries[job]} == set(
        gitlab["stages"]
    )


@pytest.mark.parametrize("workflow", WORKFLOW_FILES, ids=lambda path: path.name)
def test_should_declare_minimal_permissions_and_timeouts(workflow: Path) -> None:
    data = load(workflow)
    assert data["permissions"] == {"contents": "read"}
    for name, job in data["jobs"].items():
        assert "timeout-minutes" in job, f"{workflow.name}: job {name} has no timeout"


def test_should_run_the_tests_on_every_database_with_real_services() -> None:
    ci = load(WORKFLOWS / "ci.yml")
    test = ci["jobs"]["test"]
    assert test["strategy"]["matrix"]["database"] == ["sqlite", "mariadb", "postgresql"]
    images = {service["image"] for service in test["services"].values()}
    assert images == {"redis:7", "mariadb:10.11", "postgres:15"}
    commands = " ".join(step.get("run", "") for step in test["steps"])
    assert "--databases=${{ matrix.database }}" in commands


def test_should_push_images_only_from_main_with_sha_and_latest_tags() -> None:
    ci = load(WORKFLOWS / "ci.yml")
    assert set(triggers(ci)) == {"push", "pull_request", "workflow_dispatch"}
    assert "concurrency" in ci
    push = ci["jobs"]["push-image"]
    assert push["if"] == "github.event_name == 'push' && github.ref == 'refs/heads/main'"
    assert push["permissions"]["packages"] == "write"
    meta = next(step for step in push["steps"] if step.get("id") == "meta")
    assert "type=sha" in meta["with"]["tags"]
    assert "value=latest" in meta["with"]["tags"]
    docker = " ".join(step.get("run", "") for step in ci["jobs"]["docker"]["steps"])
    # Naming the service: without it Compose stops the stack when the one-shot migrate exits.
    assert (
        "docker compose --profile testing up --build --exit-code-from test-service test-service"
        in docker
    )


def test_should_give_the_compose_stack_every_required_variable_in_ci() -> None:
    """compose.yaml refuses to start without its ``${VAR:?…}`` values; both CIs set them."""
    required = set(
        re.findall(r"\$\{([A-Z_][A-Z0-9_]*):\?", (ROOT / "compose.yaml").read_text("utf-8"))
    )
    github = " ".join(
        step.get("run", "") for step in load(WORKFLOWS / "ci.yml")["jobs"]["docker"]["steps"]
    )
    gitlab = " ".join(load(GITLAB_CI)["e2e:compose"]["script"])

    assert required >= {"SECRET_KEY", "DB_PASSWORD"}
    for script in (github, gitlab):
        assert {name for name in required if f'echo "{name}=' not in script} == set()


def test_should_release_to_pypi_with_trusted_publishing_on_version_tags() -> None:
    release = load(WORKFLOWS / "release.yml")
    assert triggers(release) == {"push": {"tags": ["v*"]}}
    pypi = release["jobs"]["pypi"]
    assert pypi["permissions"] == {"id-token": "write"}
    assert pypi["environment"]["name"] == "pypi"
    assert any(
        step.get("uses", "").startswith("pypa/gh-action-pypi-publish@") for step in pypi["steps"]
    )
    assert "password" not in str(pypi)  # no stored token: OIDC only


def test_should_have_the_same_stages_on_gitlab() -> None:
    gitlab = load(GITLAB_CI)
    assert gitlab["stages"] == ["lint", "test", "build", "e2e", "release", "pages"]
    tested = {gitlab[job]["variables"]["DATABASE"] for job in gitlab if job.startswith("test:")}
    assert tested == {"sqlite", "mariadb", "postgresql"}
    assert gitlab["pages"]["artifacts"]["paths"] == ["public"]
    assert gitlab["release:pypi"]["id_tokens"]["PYPI_ID_TOKEN"]["aud"] == "pypi"


def test_should_check_the_conventional_commits_of_the_pushed_range_on_both() -> None:
    lint = load(WORKFLOWS / "ci.yml")["jobs"]["lint"]
    checkout = next(step for step in lint["steps"] if step.get("uses", "").startswith("actions/"))
    step = next(step for step in lint["steps"] if "make commit-check" in step.get("run", ""))
    assert checkout["with"]["fetch-depth"] == 0
    assert "if" not in step  # pushes and pull requests alike
    for part in ("pull_request.base.sha", "pull_request.head.sha", "event.before", "github.sha"):
        assert part in step["env"]["RANGE"]

    commits = load(GITLAB_CI)["commits"]
    assert commits["stage"] == "lint"
    assert commits["variables"]["GIT_DEPTH"] == "0"
    script = " ".join(commits["script"])
    assert "make commit-check" in script
    for variable in ("CI_MERGE_REQUEST_DIFF_BASE_SHA", "CI_COMMIT_BEFORE_SHA", "CI_COMMIT_SHA"):
        assert variable in script


def _ci_scripts() -> str:
    texts = [path.read_text(encoding="utf-8") for path in [*WORKFLOW_FILES, GITLAB_CI]]
    return "\n".join(texts)


def test_should_call_only_existing_make_targets_and_venv_tools() -> None:
    """The pipelines call what a developer calls; a renamed target must not rot in CI."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([a-zA-Z0-9_.-]+):", makefile, flags=re.MULTILINE))
    scripts = _ci_scripts()
    called = set(
        re.findall(r"^\s*(?:run:\s*|-\s+)?make ([a-z][a-z0-9-]*)", scripts, flags=re.MULTILINE)
    )
    tools = set(re.findall(r"\.venv/bin/([a-z][a-z0-9-]*)", scripts))

    assert called, "the pipelines call no make target"
    assert called <= targets, f"unknown make targets: {sorted(called - targets)}"
    assert {tool for tool in tools if not (BIN / tool).exists()} == set()


# --- the linters really catch mistakes ------------------------------------------------

BROKEN_WORKFLOW = """\
name: broken
on:
  push:
    branches: [main]
jobs:
  test:
    runs-on: ubuntu-24.04
    needs: [lint]
    steps:
      - uses: actions/checkout@v6
      - run: echo "${{ github.event.nope.sha }}"
        if: ${{ matrix.python == '3.11' }}
"""


def test_should_reject_a_workflow_with_an_unknown_job_and_a_bad_expression(
    tmp_path: Path,
) -> None:
    workflow = tmp_path / ".github" / "workflows" / "broken.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text(BROKEN_WORKFLOW, encoding="utf-8")

    result = actionlint(workflow, cwd=tmp_path)

    assert result.returncode == 1
    assert 'job "test" needs job "lint" which does not exist' in result.stdout
    assert "matrix" in result.stdout


def test_should_reject_a_workflow_job_without_runs_on_by_schema(tmp_path: Path) -> None:
    workflow = tmp_path / "no-runner.yml"
    workflow.write_text(
        "on: push\njobs:\n  build:\n    steps:\n      - run: make test\n", encoding="utf-8"
    )

    result = check_schema("vendor.github-workflows", workflow)

    assert result.returncode == 1
    assert "validation errors" in result.stdout + result.stderr


def test_should_reject_an_invalid_gitlab_job_by_schema(tmp_path: Path) -> None:
    pipeline = tmp_path / ".gitlab-ci.yml"
    pipeline.write_text(
        "stages: [test]\nunit:\n  stage: test\n  script: make test\n  when: sometimes\n",
        encoding="utf-8",
    )

    result = check_schema("vendor.gitlab-ci", pipeline)

    assert result.returncode == 1
    assert "sometimes" in result.stdout + result.stderr


def test_should_reject_an_invalid_compose_file_by_schema(tmp_path: Path) -> None:
    compose = tmp_path / "compose.yaml"
    compose.write_text(
        "services:\n  web:\n    image: page-tracker\n    depends_on:\n"
        "      db:\n        condition: service_maybe\n  db:\n    image: mariadb:10.11\n",
        encoding="utf-8",
    )

    result = check_schema("vendor.compose-spec", compose)

    assert result.returncode == 1
    assert "service_maybe" in result.stdout + result.stderr
