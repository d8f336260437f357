"""Redis mode's memory contract: Redis may fill up, it must never evict.

A full Redis with ``maxmemory-policy noeviction`` refuses writes: hits then go to the
database and the flush still drains the stream (README "Redis memory"). An evicting
policy would instead drop keys silently: ``allkeys-*`` the stream of hits not flushed
yet and their pending counts (acknowledged hits lost), ``volatile-*`` the day's salt and
the visitor sets (uniques split or lost). So only ``noeviction`` is accepted, unless the
operator sets ``REDIS_ACCEPT_EVICTION_RISK=true``.

Read with ``INFO memory``, not ``CONFIG GET``: managed Redis services often disable
``CONFIG``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import redis

from page_tracker.errors import ConfigError

log = logging.getLogger(__name__)

SAFE_POLICY = "noeviction"
ACCEPT_RISK_SETTING = "REDIS_ACCEPT_EVICTION_RISK"
FULL_MARGIN = 0.02


@dataclass(frozen=True, slots=True)
class RedisMemory:
    """Used memory, its cap (``maxmemory``, 0: none) and the eviction policy."""

    used: int
    limit: int
    policy: str

    @property
    def full(self) -> bool:
        """At the cap (within :data:`FULL_MARGIN` of it): a ``noeviction`` Redis refuses
        writes that may grow memory. The margin because used memory drops right after a
        refusal (the refused command's buffer is freed) while the next write is refused
        again."""
        return self.limit > 0 and self.used >= self.limit * (1 - FULL_MARGIN)

    @property
    def may_evict(self) -> bool:
        return self.policy != SAFE_POLICY


def read_memory(client: redis.Redis) -> RedisMemory:
    info: Any = client.info("memory")
    return RedisMemory(
        used=int(info.get("used_memory", 0)),
        limit=int(info.get("maxmemory", 0)),
        policy=str(info.get("maxmemory_policy", SAFE_POLICY)),
    )


def eviction_problem(memory: RedisMemory, accept_risk: bool) -> str | None:
    """One line naming the setting when ``memory``'s policy may evict our keys."""
    if not memory.may_evict or accept_risk:
        return None
    return (
        f"Redis maxmemory-policy is {memory.policy}: it may evict unflushed hits and salts; "
        f"set maxmemory-policy {SAFE_POLICY} (or {ACCEPT_RISK_SETTING}=true to run anyway)"
    )


def check_eviction_policy(client: redis.Redis, accept_risk: bool) -> None:
    """Start-up check: raise :class:`ConfigError` (one line) for an evicting policy.

    A Redis that does not answer is not checked here: the process starts (hits go to the
    database) and ``/readyz`` reports Redis unavailable, then checks the policy."""
    try:
        memory = read_memory(client)
    except redis.RedisError as error:
        log.warning("Redis not checked at start (%s): /readyz reports it", type(error).__name__)
        return
    problem = eviction_problem(memory, accept_risk)
    if problem is not None:
        raise ConfigError(f"invalid configuration: {problem}")
    if memory.may_evict:
        log.warning(
            "Redis maxmemory-policy is %s: accepted by %s", memory.policy, ACCEPT_RISK_SETTING
        )
