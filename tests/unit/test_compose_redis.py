"""The Compose stacks run Redis capped and never evicting (README "Redis memory")."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", ["compose.yaml", "deploy/compose.yaml"])
def test_should_cap_redis_memory_and_refuse_writes_instead_of_evicting(name: str) -> None:
    stack = yaml.safe_load((ROOT / name).read_text(encoding="utf-8"))
    command = [str(part) for part in stack["services"]["redis"]["command"]]
    options = dict(zip(command[1::2], command[2::2], strict=True))
    assert options["--maxmemory-policy"] == "noeviction"
    assert options["--maxmemory"] == "${REDIS_MAXMEMORY:-256mb}"
    assert options["--appendonly"] == "yes"
