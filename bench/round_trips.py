"""Count the round trips requests make to the database and to Redis (for the benches).

Database: SQLAlchemy's own hooks on one engine: statements (``before_cursor_execute``),
pool checkouts, the pool's pre-ping (``do_ping``) and every rollback and commit
(``do_rollback``/``do_commit``: the session's end and the pool's reset on return).
psycopg 3 also sends a ``BEGIN`` before the first statement of each transaction (the
pre-ping's included), which no hook sees: on PostgreSQL add one per checkout that ran
anything. Redis: the server's own ``INFO commandstats`` (so only on a private server):
commands (``redis``), and the client's sends (``redis_trips``: a pipeline's commands go
in one; every redis-py client of the process, less the counting's own ``INFO``).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import redis
from redis.connection import AbstractConnection
from sqlalchemy import Engine, event

_SENDS: Counter[str] = Counter()


def _count_sends() -> None:
    """Count every redis-py connection's ``send_packed_command`` (once a process)."""
    original: Any = AbstractConnection.send_packed_command
    if getattr(original, "counted", False):
        return

    def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
        _SENDS["sends"] += 1
        return original(self, *args, **kwargs)

    counted.counted = True  # type: ignore[attr-defined]
    AbstractConnection.send_packed_command = counted  # type: ignore[method-assign]


class Trips:
    """Counts of one engine's (and optionally one Redis server's) round trips."""

    def __init__(self, engine: Engine, client: redis.Redis | None = None) -> None:
        self.counts: Counter[str] = Counter()
        self.client = client
        dialect: Any = engine.dialect
        for name in ("do_ping", "do_rollback", "do_commit"):
            original = getattr(dialect, name)
            setattr(dialect, name, self._counting(name.removeprefix("do_"), original))
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine.pool, "checkout", self._checkout)
        if client is not None:
            _count_sends()

    def _counting(self, name: str, original: Any) -> Any:
        def counted(*args: Any, **kwargs: Any) -> Any:
            self.counts[name] += 1
            return original(*args, **kwargs)

        return counted

    def _statement(self, *_args: Any) -> None:
        self.counts["statement"] += 1

    def _checkout(self, *_args: Any) -> None:
        self.counts["checkout"] += 1

    def _redis_calls(self) -> int:
        if self.client is None:
            return 0
        stats: dict[str, Any] = self.client.info("commandstats")
        # Less the INFO commands this counting sends itself.
        return sum(int(v["calls"]) for k, v in stats.items() if k != "cmdstat_info")

    def snapshot(self) -> Counter[str]:
        found = Counter(self.counts)
        found["redis"] = self._redis_calls()
        if self.client is not None:  # less the INFO sends of the snapshots so far
            self.counts["snapshots"] += 1
            found["redis_trips"] = _SENDS["sends"] - self.counts["snapshots"]
        return found

    @staticmethod
    def per_request(before: Counter[str], after: Counter[str], requests: int) -> dict[str, float]:
        """What ``requests`` requests made between two snapshots, per request."""
        keys = ("checkout", "ping", "statement", "rollback", "commit", "redis", "redis_trips")
        return {key: round((after[key] - before[key]) / requests, 2) for key in keys}
