"""Which Redis memory policies Redis mode accepts, and when Redis counts as full."""

from __future__ import annotations

import pytest

from page_tracker.redis_memory import RedisMemory, eviction_problem

MB = 1024 * 1024


@pytest.mark.parametrize(
    "policy",
    ["allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru", "volatile-ttl"],
)
def test_should_refuse_every_policy_that_may_evict_unless_the_risk_is_accepted(
    policy: str,
) -> None:
    memory = RedisMemory(used=MB, limit=2 * MB, policy=policy)
    problem = eviction_problem(memory, accept_risk=False)
    assert problem is not None
    assert f"maxmemory-policy is {policy}" in problem
    assert "REDIS_ACCEPT_EVICTION_RISK=true" in problem
    assert "\n" not in problem
    assert eviction_problem(memory, accept_risk=True) is None


def test_should_accept_noeviction() -> None:
    assert eviction_problem(RedisMemory(MB, 2 * MB, "noeviction"), accept_risk=False) is None


@pytest.mark.parametrize(
    ("used", "limit", "full"),
    [(MB, 0, False), (MB, 2 * MB, False), (2 * MB - 1024, 2 * MB, True), (3 * MB, 2 * MB, True)],
)
def test_should_be_full_at_the_cap_only_when_there_is_one(
    used: int, limit: int, full: bool
) -> None:
    assert RedisMemory(used, limit, "noeviction").full is full
