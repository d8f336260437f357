"""The documentation site builds with ``mkdocs build --strict`` (a broken link, a missing
page or a bad anchor fails), and what it documents agrees with the code."""

from __future__ import annotations

import ast
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from page_tracker.app import periodic_jobs
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
    # The package diagram and the data-flow diagram reach the page as mermaid blocks.
    assert architecture.count('<pre class="mermaid">') == 2
    assert "flowchart TB" in architecture
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


SOURCE = ROOT / "src" / "page_tracker"
DOCUMENTS = [
    ROOT / "README.md",
    ROOT / "bench" / "README.md",
    *sorted((ROOT / "docs").glob("*.md")),
]
# `buffer/flush.py`, `src/page_tracker/ingest/static/pt.js`, `tests/e2e/test_granian.py`
_FILE = re.compile(r"`((?:[a-z_0-9]+/)+[a-z_0-9]+\.(?:py|js))`")
_DOTTED = re.compile(r"\bpage_tracker(?:\.[A-Za-z_]+)+")


def _defines(module: str, name: str) -> bool:
    """Whether ``module`` (not imported: some modules build an app at import time) defines
    ``name`` at its top level."""
    spec = importlib.util.find_spec(module)
    assert spec is not None
    assert spec.origin is not None
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name == name:
            return True
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AnnAssign):
            targets = [node.target]
        if any(isinstance(target, ast.Name) and target.id == name for target in targets):
            return True
    return False


def _exists(dotted: str) -> bool:
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        module = ".".join(parts[:cut])
        try:
            found = importlib.util.find_spec(module) is not None
        except ModuleNotFoundError:
            found = False
        if found:
            rest = parts[cut:]
            return not rest or (len(rest) == 1 and _defines(module, rest[0]))
    return False


def test_should_name_only_files_and_modules_that_exist() -> None:
    # Celery task names keep their first release's names; they are no module paths.
    task_names = {job.task for job in periodic_jobs()}
    wrong: list[str] = []
    for document in DOCUMENTS:
        text = document.read_text(encoding="utf-8")
        for path in _FILE.findall(text):
            if not any((base / path).exists() for base in (ROOT, SOURCE)):
                wrong.append(f"{document.name}: {path}")
        for dotted in set(_DOTTED.findall(text)) - task_names:
            if not _exists(dotted):
                wrong.append(f"{document.name}: {dotted}")
    assert not wrong, f"the documents name what the tree does not have: {sorted(wrong)}"
