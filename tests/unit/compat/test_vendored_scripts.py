"""The vendored npm scripts are the originals: byte for byte what ``vendor.sha256`` records
(``make vendor-js`` refreshes both), each with its licence beside it."""

import hashlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def recorded() -> list[tuple[str, str]]:
    lines = (ROOT / "vendor.sha256").read_text().splitlines()
    pairs = [line.split(maxsplit=1) for line in lines if line and not line.startswith("#")]
    return [(digest, path) for digest, path in pairs]


@pytest.mark.parametrize(("digest", "path"), recorded())
def test_should_keep_vendored_files_unmodified(digest: str, path: str) -> None:
    assert hashlib.sha256((ROOT / path).read_bytes()).hexdigest() == digest


def test_should_ship_each_vendored_script_with_its_licence() -> None:
    paths = [Path(path) for _, path in recorded()]
    licences = {path.parent for path in paths if path.name == "LICENSE"}
    for script in (path for path in paths if path.suffix == ".js"):
        owner = next((folder for folder in licences if folder in script.parents), None)
        assert owner is not None, f"no LICENSE recorded beside {script}"
        licence = (ROOT / owner / "LICENSE").read_text()
        # MIT, Apache 2.0, or (axe-core, used by the tests only) the Mozilla Public License
        known = ("MIT License", "Apache License", "Mozilla Public License")
        assert any(name in licence for name in known)
