"""The access epoch mirrored in Redis (Redis mode), so that a cached read request learns
the epoch without a database round trip (:mod:`page_tracker.auth.epoch`).

The database stays the truth: the mirror only holds a value some reader read from the
database, and only while no change of access may be under way. A change marks the mirror
*before* its transaction commits and clears the mark when the transaction ends (commit
or rollback), before ``commit()`` returns; a reader trusts the mirror only when it holds
a value, and fills it only if no change began since the reader looked (a fence) and none
is under way. So a request that starts after a change's commit returned never reads an
epoch from before it. Whatever fails, it fails closed:

- Redis unreachable for a reader: it reads the database (counted as ``redis-error``);
- Redis unreachable for a change: the change is refused (503) before it commits, since
  readers that still reach Redis would otherwise trust the old value;
- Redis unreachable when the change ends: the mark stays, and readers read the database
  until it lapses (:data:`WRITE_LEASE`, long after any commit: renewed just before it).

A change made by a process that does not share this Redis and key prefix (no
``REDIS_URL``, another ``REDIS_KEY_PREFIX``) cannot mark the mirror: such a change is
honoured once the mirror expires, at most ``CACHE_ACCESS_TTL`` seconds later, like a
cached entry without epochs would be. Every process of a Redis-mode deployment therefore
runs with the same ``REDIS_URL`` and ``REDIS_KEY_PREFIX``.

Redis key (under ``REDIS_KEY_PREFIX``, ``P``), one hash:

``P access-epoch``  ``epoch``: the mirrored value (absent: read the database);
                    ``fence``: random, replaced by every change's start and end;
                    ``writers``: changes under way; ``until``: when their mark lapses
                    (Redis server time, ms). Expires ``CACHE_ACCESS_TTL`` after a fill;
                    never while a change is under way.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import redis
from flask import Flask, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from page_tracker.errors import ServiceUnavailable
from page_tracker.extensions import Extension
from page_tracker.redis_client import deliver, riders

log = logging.getLogger(__name__)

WRITE_LEASE: Final = 30.0  # seconds a change's mark outlives its last renewal
_MARKED: Final = "pt_access_epoch_marked"  # session.info: the mirror this transaction marked

# Server time in milliseconds, formatted as an integer (Lua numbers are doubles).
_NOW = "local t = redis.call('TIME') local now = tonumber(t[1]) * 1000 + math.floor(t[2] / 1000)"
_LIVE = "tonumber(v[2] or '0') > 0 and tonumber(v[3] or '0') >= now"
# ARGV: the fence the reader saw ('' for none), the value it read, a new fence, TTL ms.
_FILL = f"""
local v = redis.call('HMGET', KEYS[1], 'fence', 'writers', 'until')
{_NOW}
if (v[1] or '') ~= ARGV[1] or ({_LIVE}) then return 0 end
redis.call('HSET', KEYS[1], 'epoch', ARGV[2], 'fence', v[1] or ARGV[3], 'writers', '0')
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
"""
# ARGV: a new fence, the lease in ms, 1 to count a new change (0 renews the lease only).
_MARK = f"""
local v = redis.call('HMGET', KEYS[1], 'fence', 'writers', 'until')
{_NOW}
local writers = 0
if {_LIVE} then writers = tonumber(v[2]) end
local lapse = math.max(tonumber(v[3] or '0'), now + tonumber(ARGV[2]))
redis.call('HSET', KEYS[1], 'fence', ARGV[1], 'writers', writers + tonumber(ARGV[3]),
           'until', string.format('%.0f', lapse))
redis.call('HDEL', KEYS[1], 'epoch')
redis.call('PERSIST', KEYS[1])
return 1
"""
# ARGV: a new fence.
_DONE = """
local writers = tonumber(redis.call('HGET', KEYS[1], 'writers') or '0')
redis.call('HSET', KEYS[1], 'fence', ARGV[1], 'writers', math.max(writers - 1, 0))
redis.call('HDEL', KEYS[1], 'epoch')
return 1
"""


@dataclass(frozen=True, slots=True)
class Seen:
    """What a reader found: the ``epoch`` to use, or else the ``fence`` under which it
    may fill the mirror with what it reads from the database (``None``: do not fill)."""

    epoch: int | None
    fence: str | None


class EpochMirror:
    """The mirror of one deployment (a Redis client and key prefix)."""

    def __init__(
        self,
        client: redis.Redis,
        prefix: str,
        ttl: float,
        on_error: Callable[[], None],
        lease: float = WRITE_LEASE,
    ) -> None:
        self.client = client
        self.key = f"{prefix}access-epoch"
        self.ttl_ms = max(1, int(ttl * 1000))
        self.lease_ms = max(1, int(lease * 1000))
        self.on_error = on_error
        self._fill = client.register_script(_FILL)
        self._mark = client.register_script(_MARK)
        self._done = client.register_script(_DONE)

    def _failed(self, what: str, error: redis.RedisError) -> None:
        log.warning("access epoch: Redis %s failed (%s)", what, error.__class__.__name__)
        self.on_error()

    def read(self) -> Seen:
        """The mirrored epoch, or the fence to fill it under (one round trip, which also
        carries the request's reads asked for by
        :func:`~page_tracker.redis_client.read_along`)."""
        along = riders()
        try:
            if along:
                with self.client.pipeline(transaction=False) as pipe:
                    pipe.hmget(self.key, ["epoch", "fence"])
                    for key, field in along:
                        pipe.hget(key, field)
                    (value, fence), *answers = pipe.execute()
                deliver(along, answers)
            else:
                value, fence = self.client.hmget(self.key, ["epoch", "fence"])
        except redis.RedisError as error:
            self._failed("read", error)
            return Seen(None, None)
        if value is not None:
            return Seen(int(value), None)
        return Seen(None, fence.decode() if isinstance(fence, bytes) else "")

    def fill(self, fence: str, value: int) -> bool:
        """Mirror ``value`` (just read from the database) unless a change began since
        ``fence`` was seen or one is under way; whether it was mirrored."""
        try:
            args: list[str | int] = [fence, str(value), secrets.token_hex(8), self.ttl_ms]
            return bool(self._fill(keys=[self.key], args=args, client=self.client))
        except redis.RedisError as error:
            self._failed("fill", error)
            return False

    def mark(self, *, renew: bool = False) -> None:
        """A change is under way (``renew``: still, about to commit): readers read the
        database until :meth:`done`. Raises :class:`ServiceUnavailable` when Redis
        fails (unless ``renew``: the first mark's lease then still holds)."""
        try:
            args: list[str | int] = [secrets.token_hex(8), self.lease_ms, 0 if renew else 1]
            self._mark(keys=[self.key], args=args, client=self.client)
        except redis.RedisError as error:
            self._failed("mark", error)
            if not renew:
                raise ServiceUnavailable(
                    "access cannot be changed while Redis is unreachable; retry shortly",
                    headers={"Retry-After": "1"},
                ) from None

    def done(self) -> None:
        """A change's transaction ended (committed or not)."""
        try:
            self._done(keys=[self.key], args=[secrets.token_hex(8)], client=self.client)
        except redis.RedisError as error:
            self._failed("unmark", error)


EPOCH_MIRROR: Extension[EpochMirror] = Extension(
    "page_tracker.access_epoch_mirror", "the access epoch mirrored in Redis (Redis mode)"
)


def init_app(app: Flask, mirror: EpochMirror) -> None:
    EPOCH_MIRROR.put(app, mirror)
    if not event.contains(Session, "before_commit", _before_commit):
        event.listen(Session, "before_commit", _before_commit)
        event.listen(Session, "after_transaction_end", _after_transaction_end)


def mark(session: Session) -> None:
    """Mark the current app's mirror for ``session``'s transaction, once (called where
    the database epoch changes, before the transaction commits)."""
    mirror = EPOCH_MIRROR.find() if has_app_context() else None
    if mirror is not None and session.info.get(_MARKED) is not mirror:
        mirror.mark()
        session.info[_MARKED] = mirror


def _before_commit(session: Session) -> None:
    mirror: Any = session.info.get(_MARKED)
    if mirror is not None:
        mirror.mark(renew=True)


def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None and (mirror := session.info.pop(_MARKED, None)) is not None:
        mirror.done()
