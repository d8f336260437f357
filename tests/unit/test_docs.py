"""The documentation site builds with ``mkdocs build --strict`` (a broken link, a missing
page or a bad anchor fails), and what it documents agrees with the code."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from page_tracker.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
MKDOCS = Path(sys.executable).parent / "mkdocs"

pytestmark = pytest.mark.timeout(180)


def build(config: Path, site: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(MKDOCS), "build", "--strict", "--config-file", str(config), "--site-dir", str(site)],
        capture_output=True,
        text=True,
        timeout=150,
        check=False,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )


def test_should_build_the_site_strictly(tmp_path: Path) -> None:
    result = build(ROOT / "mkdocs.yml", tmp_path / "site")

    assert result.returncode == 0, result.stderr
    assert (tmp_path / "site" / "index.html").is_file()
    architecture = (tmp_path / "site" / "architecture" / "index.html").read_text(encoding="utf-8")
    # The request/data-flow diagram reaches the page as a mermaid block, not as code.
    assert architecture.count('<pre class="mermaid">') == 1
    assert "flowchart LR" in architecture


def test_should_fail_the_strict_build_on_a_broken_link(tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(ROOT / "docs", project / "docs")
    shutil.copy(ROOT / "mkdocs.yml", project / "mkdocs.yml")
    index = project / "docs" / "index.md"
    index.write_text(
        index.read_text(encoding="utf-8") + "\nSee [the missing page](missing.md).\n",
        encoding="utf-8",
    )

    result = build(project / "mkdocs.yml", tmp_path / "site")

    assert result.returncode != 0
    assert "missing.md" in result.stderr


def test_should_document_every_setting_in_the_configuration_page() -> None:
    page = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", page, flags=re.MULTILINE))
    settings = {field.alias for field in Settings.model_fields.values() if field.alias}

    missing = sorted(settings - documented)
    assert not missing, f"add {missing} to the table in docs/configuration.md"
