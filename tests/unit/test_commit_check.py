"""scripts/commit-check.sh (``make commit-check``, CI): Conventional Commits of a range,
starting after the last commit that predates the check, in a throw-away git repository."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "commit-check.sh"
ZEROS = "0" * 40

pytestmark = pytest.mark.timeout(60)


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True, timeout=30
    ).stdout.strip()


def _commit(repo: Path, message: str) -> None:
    identity = ("-c", "user.name=t", "-c", "user.email=t@example.test")
    _git(repo, *identity, "commit", "-q", "--allow-empty", "-m", message)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """Two non-conventional commits (the old history), then ``feat: …`` and ``fix: …``."""
    _git(tmp_path, "init", "-q", "-b", "main")
    for message in ("initial import", "bench: numbers", "feat: counting", "fix: off by one"):
        _commit(tmp_path, message)
    return tmp_path


def _check(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "COMMIT_CHECK_AFTER": _git(repo, "rev-parse", "HEAD~2"),  # "bench: numbers"
        "CZ": str(Path(sys.executable).with_name("cz")),
    }
    return subprocess.run(
        [str(SCRIPT), *args],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("base", ["", ZEROS, "HEAD~3", "deadbeef"])
def test_should_start_after_the_old_history_when_the_base_is_missing_or_older(
    repo: Path, base: str
) -> None:
    # When the range's base is empty, all zeros, older than the start or unknown
    result = _check(repo, f"{base}..HEAD")
    # Then only the two conventional commits are checked, and they pass
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 commit(s)" in result.stdout


def test_should_fail_a_non_conventional_commit_of_the_range(repo: Path) -> None:
    # Given a commit that is not a Conventional Commit on top
    _commit(repo, "fixed things")
    # When the pushed range is checked
    result = _check(repo, "HEAD~1..HEAD")
    # Then commitizen rejects it
    assert result.returncode != 0
    assert "fixed things" in result.stdout + result.stderr


def test_should_pass_an_empty_range_and_refuse_a_non_range(repo: Path) -> None:
    assert _check(repo, "HEAD..HEAD").returncode == 0
    refused = _check(repo, "HEAD")
    assert refused.returncode == 2
    assert "expected a range" in refused.stderr
