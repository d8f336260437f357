"""Redis mode's key layout and scripts: the hit stream, pending counts, visitor sets.

Everything lives under ``REDIS_KEY_PREFIX`` (``P``):

``P hits``                    stream, one entry per written batch: ``id`` (a random batch
                              id, the idempotency key of the flush) and ``v`` (the views,
                              :mod:`page_tracker.buffer.batch_format`); consumer group ``flush``.
``P pending``                 hash of page views written but not yet flushed:
                              ``s:SITE`` and ``p:SITE:PATH``.
``P uv:SITE[:PATHHASH]``      all-time visitors of a site or page: an exact set while it
                              has fewer than 1 000 members, then a HyperLogLog.
``P uvseed:SITE[:PATHHASH]``  set once the database's visitors were added to that key.

The ingest script adds a batch to the stream **and** its counts to ``pending`` and the
visitor keys in one atomic step; the ack script removes flushed entries and subtracts
their counts in one atomic step, so the counts always match the stream.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import redis

from page_tracker.stats.pageview import PageView

GROUP = "flush"
EXACT_UNIQUES_BELOW = 1000
VISITOR_TTL = 14 * 86_400  # an idle page's visitor set leaves Redis (and is re-seeded)
SEED_TTL = 86_400  # shorter than VISITOR_TTL: a seed mark never outlives its set

# KEYS: stream, pending, visitor keys...   ARGV: batch id, payload, exact limit, ttl,
# number of pending fields, (field, count)..., then per visitor key: n, members...
INGEST = """
redis.call('XADD', KEYS[1], '*', 'id', ARGV[1], 'v', ARGV[2])
local limit, ttl = tonumber(ARGV[3]), tonumber(ARGV[4])
local i = 6
for _ = 1, tonumber(ARGV[5]) do
  redis.call('HINCRBY', KEYS[2], ARGV[i], ARGV[i + 1])
  i = i + 2
end
for k = 3, #KEYS do
  local key, n = KEYS[k], tonumber(ARGV[i])
  local first, last = i + 1, i + n
  i = last + 1
  local hll = redis.call('TYPE', key).ok == 'string'
  for s = first, last, 500 do
    local e = math.min(s + 499, last)
    if hll then
      redis.call('PFADD', key, unpack(ARGV, s, e))
    else
      redis.call('SADD', key, unpack(ARGV, s, e))
    end
  end
  if not hll and redis.call('SCARD', key) >= limit then
    local all = redis.call('SMEMBERS', key)
    redis.call('DEL', key)
    for s = 1, #all, 500 do
      redis.call('PFADD', key, unpack(all, s, math.min(s + 499, #all)))
    end
  end
  redis.call('EXPIRE', key, ttl)
end
return 1
"""

# KEYS: stream, pending.  ARGV: group, then per entry: id, n, (field, count)...
# An entry's counts are subtracted only when this call deleted it (exactly once).
ACK = """
local i, acked = 2, 0
while i <= #ARGV do
  local id, n = ARGV[i], tonumber(ARGV[i + 1])
  redis.call('XACK', KEYS[1], ARGV[1], id)
  local deleted = redis.call('XDEL', KEYS[1], id)
  for j = 0, n - 1 do
    if deleted == 1 then
      local field = ARGV[i + 2 + 2 * j]
      if redis.call('HINCRBY', KEYS[2], field, -tonumber(ARGV[i + 3 + 2 * j])) <= 0 then
        redis.call('HDEL', KEYS[2], field)
      end
    end
  end
  acked = acked + deleted
  i = i + 2 + 2 * n
end
return acked
"""

# KEYS: pending, site visitors, page visitors, site seed mark, page seed mark.
# ARGV: site field, page field.  -> {site pending, page pending, site uv, page uv,
# site seeded, page seeded}
COUNT = """
local function uniques(key)
  if redis.call('TYPE', key).ok == 'string' then return redis.call('PFCOUNT', key) end
  return redis.call('SCARD', key)
end
local pending = redis.call('HMGET', KEYS[1], ARGV[1], ARGV[2])
return {tonumber(pending[1] or 0), tonumber(pending[2] or 0), uniques(KEYS[2]),
        uniques(KEYS[3]), redis.call('EXISTS', KEYS[4]), redis.call('EXISTS', KEYS[5])}
"""

# KEYS: visitor key, seed mark.  ARGV: exact limit, ttl, seed ttl (0: no mark yet),
# members...
SEED = """
local key, limit = KEYS[1], tonumber(ARGV[1])
if #ARGV > 3 then
  if redis.call('TYPE', key).ok == 'string' then
    for s = 4, #ARGV, 500 do redis.call('PFADD', key, unpack(ARGV, s, math.min(s + 499, #ARGV))) end
  else
    for s = 4, #ARGV, 500 do redis.call('SADD', key, unpack(ARGV, s, math.min(s + 499, #ARGV))) end
    if redis.call('SCARD', key) >= limit then
      local all = redis.call('SMEMBERS', key)
      redis.call('DEL', key)
      for s = 1, #all, 500 do redis.call('PFADD', key, unpack(all, s, math.min(s + 499, #all))) end
    end
  end
  redis.call('EXPIRE', key, tonumber(ARGV[2]))
end
if tonumber(ARGV[3]) > 0 then redis.call('SET', KEYS[2], '1', 'EX', tonumber(ARGV[3])) end
return 1
"""


def path_hash(path: str) -> str:
    return hashlib.blake2b(path.encode(), digest_size=8).hexdigest()


@dataclass(frozen=True)
class HotKeys:
    """Key names under one prefix."""

    prefix: str

    @property
    def stream(self) -> str:
        return f"{self.prefix}hits"

    @property
    def pending(self) -> str:
        return f"{self.prefix}pending"

    def visitors(self, site_id: str, path: str | None = None) -> str:
        suffix = "" if path is None else f":{path_hash(path)}"
        return f"{self.prefix}uv:{site_id}{suffix}"

    def seeded(self, site_id: str, path: str | None = None) -> str:
        suffix = "" if path is None else f":{path_hash(path)}"
        return f"{self.prefix}uvseed:{site_id}{suffix}"


def site_field(site_id: str) -> str:
    return f"s:{site_id}"


def page_field(site_id: str, path: str) -> str:
    return f"p:{site_id}:{path}"


def pending_counts(views: Iterable[PageView]) -> Counter[str]:
    """The ``pending`` fields a batch adds to (and its flush subtracts from)."""
    counts: Counter[str] = Counter()
    for view in views:
        counts[site_field(view.site_id)] += 1
        counts[page_field(view.site_id, view.path)] += 1
    return counts


class Scripts:
    """The registered Lua scripts of one client (``EVALSHA``, loaded on first use)."""

    def __init__(self, client: redis.Redis) -> None:
        self.ingest = client.register_script(INGEST)
        self.ack = client.register_script(ACK)
        self.count = client.register_script(COUNT)
        self.seed = client.register_script(SEED)


def ingest_arguments(
    keys: HotKeys, batch_id: str, payload: bytes, views: Sequence[PageView]
) -> tuple[list[str], list[Any]]:
    """KEYS and ARGV of the ingest script for one batch."""
    counts = pending_counts(views)
    visitors: dict[str, set[bytes]] = {}
    for view in views:
        visitors.setdefault(keys.visitors(view.site_id), set()).add(view.lifetime_visitor)
        visitors.setdefault(keys.visitors(view.site_id, view.path), set()).add(
            view.lifetime_visitor
        )
    argv: list[Any] = [batch_id, payload, EXACT_UNIQUES_BELOW, VISITOR_TTL, len(counts)]
    for field, count in counts.items():
        argv += [field, count]
    for members in visitors.values():
        argv += [len(members), *members]
    return [keys.stream, keys.pending, *visitors], argv
