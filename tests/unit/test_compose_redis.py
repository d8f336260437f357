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


@pytest.mark.parametrize("name", ["compose.yaml", "deploy/compose.yaml"])
def test_should_give_celery_a_broker_apart_from_the_hit_buffer(name: str) -> None:
    # A full buffer Redis refuses Celery's writes too: beat could not queue the flush.
    stack = yaml.safe_load((ROOT / name).read_text(encoding="utf-8"))
    services = stack["services"]
    assert services["web"]["environment"]["CELERY_BROKER_URL"] == "redis://broker:6379/0"
    for celery_role in ("worker", "beat", "flower"):
        assert "broker" in services[celery_role]["depends_on"]
