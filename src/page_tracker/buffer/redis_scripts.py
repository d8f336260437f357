"""Redis mode's Lua scripts; each runs atomically, so the keys of
:mod:`page_tracker.buffer.redis_keys` always agree with each other.

- ``INGEST`` adds a batch to the stream **and** its counts to ``pending`` and its
  visitors to the visitor keys, and returns what ``COUNT`` returns for the pages the
  batch asks to read (its Busuanzi views: counted and read in one call);
- ``ACK`` removes flushed entries and subtracts their counts (exactly once);
- ``COUNT`` reads the pending counts, the cached database totals and the uniques of a
  site and a page;
- ``CACHE_TOTALS`` caches database totals (a value only ever raises a cached one);
- ``SEED`` adds the database's visitors to a visitor key Redis does not hold;
- ``ENSURE_GROUP`` creates the flush's consumer group (and the stream) when missing.

``ACK`` and ``ENSURE_GROUP`` declare ``allow-oom`` (Redis 7 script flags): a full Redis
(``maxmemory`` reached, ``noeviction``) refuses every command that may grow memory, and
the flush could then never drain the backlog that would free it. ``ACK`` frees far more
memory than the page totals it raises take; ``ENSURE_GROUP`` takes a few hundred bytes
once, so that a deployment whose Redis filled up before its first flush can still flush.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import redis
from redis.commands.core import AsyncScript
from redis.commands.core import Script as SyncScript
from redis.exceptions import NoScriptError

from page_tracker.buffer.redis_keys import (
    EXACT_UNIQUES_BELOW,
    VISITOR_TTL,
    RedisKeys,
    imported_page_field,
    imported_site_field,
    page_field,
    site_field,
)
from page_tracker.stats.pageview import PageView

VISITOR_WIDTH = 16  # bytes of a visitor hash (page_tracker.enrich.visitors.DIGEST_SIZE)

# add_visitors(key, members, first, last, limit): add members[first..last] to a visitor
# key, an exact set while it has fewer than `limit` members and a HyperLogLog from then
# on (the set is converted when it reaches the limit). Commands take 500 members at most.
# A set is only counted when members were added: every set left by this function has
# fewer than `limit` members, so one that gained none still has (most batches bring
# visitors a page has seen already: a call less per visitor key).
ADD_VISITORS = """
local function add_visitors(key, members, first, last, limit)
  local hll = redis.call('TYPE', key).ok == 'string'
  local command = hll and 'PFADD' or 'SADD'
  local added = 0
  for s = first, last, 500 do
    added = added + redis.call(command, key, unpack(members, s, math.min(s + 499, last)))
  end
  if not hll and added > 0 and redis.call('SCARD', key) >= limit then
    local all = redis.call('SMEMBERS', key)
    redis.call('DEL', key)
    for s = 1, #all, 500 do
      redis.call('PFADD', key, unpack(all, s, math.min(s + 499, #all)))
    end
  end
end
"""

# uniques(key): the visitors of a visitor key (exact set or HyperLogLog).
UNIQUES = """
local function uniques(key)
  if redis.call('TYPE', key).ok == 'string' then return redis.call('PFCOUNT', key) end
  return redis.call('SCARD', key)
end
"""

# KEYS: stream, pending, totals, (site seed mark, page seed mark) per read, visitor keys...
# ARGV: batch id, payload, exact limit, ttl, number of pending fields, number of reads,
# member width, (field, count)..., then per visitor key: its members concatenated (each
# ``member width`` bytes: one argument per key, not one per member), then per read: site
# field, page field, KEYS index of the site's and of the page's visitor key, site
# imported field, page imported field.
# -> per read, after the batch is counted, the 10 numbers of ``COUNT`` (flat list).
INGEST = (
    ADD_VISITORS
    + UNIQUES
    + """
redis.call('XADD', KEYS[1], '*', 'id', ARGV[1], 'v', ARGV[2])
local limit, ttl, reads = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[6])
local width = tonumber(ARGV[7])
local i = 8
for _ = 1, tonumber(ARGV[5]) do
  redis.call('HINCRBY', KEYS[2], ARGV[i], ARGV[i + 1])
  i = i + 2
end
for k = 4 + 2 * reads, #KEYS do
  local blob, members = ARGV[i], {}
  for s = 1, #blob, width do members[#members + 1] = string.sub(blob, s, s + width - 1) end
  add_visitors(KEYS[k], members, 1, #members, limit)
  redis.call('EXPIRE', KEYS[k], ttl)
  i = i + 1
end
local counted = {}
for r = 0, reads - 1 do
  local site, page = ARGV[i], ARGV[i + 1]
  local pending = redis.call('HMGET', KEYS[2], site, page)
  local totals = redis.call('HMGET', KEYS[3], site, page, ARGV[i + 4], ARGV[i + 5])
  for _, value in ipairs({
    tonumber(pending[1] or 0), tonumber(pending[2] or 0),
    uniques(KEYS[tonumber(ARGV[i + 2])]), uniques(KEYS[tonumber(ARGV[i + 3])]),
    redis.call('EXISTS', KEYS[4 + 2 * r]), redis.call('EXISTS', KEYS[5 + 2 * r]),
    tonumber(totals[1] or -1), tonumber(totals[2] or -1),
    tonumber(totals[3] or -1), tonumber(totals[4] or -1)}) do
    counted[#counted + 1] = value
  end
  i = i + 6
end
return counted
"""
)

# raise_totals(key, argv, first, n): each of n (field, value) pairs from argv[first]
# raises the field of the totals hash to value (never lowers it: totals only grow, so
# writers that race settle on the highest, the latest, database total).
RAISE_TOTALS = """
local function raise_totals(key, argv, first, n)
  for j = first, first + 2 * (n - 1), 2 do
    local value = tonumber(argv[j + 1])
    if value > tonumber(redis.call('HGET', key, argv[j]) or -1) then
      redis.call('HSET', key, argv[j], value)
    end
  end
end
"""

# KEYS: stream, pending, totals.  ARGV: group, m, (field, database total) x m, then per
# entry: id, n, (field, count)...
# An entry's counts are subtracted only when this call deleted it (exactly once); in
# the same step the totals cache takes the database totals the flush read after its
# commit, so totals + pending never miss the flushed hits.
# allow-oom: acknowledging, deleting and decrementing existing fields frees memory; the
# totals it raises are a few bytes per page, far less than the entries it deletes.
# (The flag must be the script's first line.)
ACK = (
    "#!lua flags=allow-oom\n"
    + RAISE_TOTALS
    + """
raise_totals(KEYS[3], ARGV, 3, tonumber(ARGV[2]))
local i, acked = 3 + 2 * tonumber(ARGV[2]), 0
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
)

# KEYS: stream.  ARGV: group.  -> 1 created, 0 it existed.
ENSURE_GROUP = """#!lua flags=allow-oom
local reply = redis.pcall('XGROUP', 'CREATE', KEYS[1], ARGV[1], '0', 'MKSTREAM')
if type(reply) == 'table' and reply.err then
  if string.find(reply.err, 'BUSYGROUP', 1, true) then return 0 end
  return redis.error_reply(reply.err)
end
return 1
"""

# KEYS: pending, site visitors, page visitors, site seed mark, page seed mark, totals.
# ARGV: site field, page field, site imported field, page imported field.
# -> {site pending, page pending, site uv, page uv, site seeded, page seeded, site total,
# page total, site imported visitors, page imported visitors} (-1 when not cached)
COUNT = (
    UNIQUES
    + """
local pending = redis.call('HMGET', KEYS[1], ARGV[1], ARGV[2])
local totals = redis.call('HMGET', KEYS[6], ARGV[1], ARGV[2], ARGV[3], ARGV[4])
return {tonumber(pending[1] or 0), tonumber(pending[2] or 0), uniques(KEYS[2]),
        uniques(KEYS[3]), redis.call('EXISTS', KEYS[4]), redis.call('EXISTS', KEYS[5]),
        tonumber(totals[1] or -1), tonumber(totals[2] or -1),
        tonumber(totals[3] or -1), tonumber(totals[4] or -1)}
"""
)

# KEYS: totals.  ARGV: (field, database total)...: cache totals read from the database.
CACHE_TOTALS = (
    RAISE_TOTALS
    + """
raise_totals(KEYS[1], ARGV, 1, #ARGV / 2)
return 1
"""
)

# KEYS: visitor key, seed mark.  ARGV: exact limit, ttl, seed ttl (0: no mark yet),
# members...
SEED = (
    ADD_VISITORS
    + """
if #ARGV > 3 then
  add_visitors(KEYS[1], ARGV, 4, #ARGV, tonumber(ARGV[1]))
  redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
end
if tonumber(ARGV[3]) > 0 then redis.call('SET', KEYS[2], '1', 'EX', tonumber(ARGV[3])) end
return 1
"""
)


class Scripts:
    """The registered Lua scripts of one client (``EVALSHA``, loaded on first use).

    The sink sends ``EVALSHA`` itself (:mod:`page_tracker.buffer.packed_commands`,
    :func:`run_if_unloaded`): redis-py asks Redis ``SCRIPT EXISTS`` in a round trip of
    its own before every pipeline that holds a registered script.
    """

    def __init__(self, client: redis.Redis) -> None:
        self.ingest = client.register_script(INGEST)
        self.ack = client.register_script(ACK)
        self.count = client.register_script(COUNT)
        self.seed = client.register_script(SEED)
        self.cache_totals = client.register_script(CACHE_TOTALS)
        self.ensure_group = client.register_script(ENSURE_GROUP)


def run_if_unloaded(
    reply: Any, script: AsyncScript | SyncScript, keys: list[str], args: list[Any]
) -> Any:
    """The reply of an ``EVALSHA`` of ``script`` sent by hand (not through redis-py's
    script object, which asks ``SCRIPT EXISTS`` first): ``reply`` itself, or after a
    ``NOSCRIPT`` (Redis restarted, or its scripts were flushed) the reply of the script
    loaded and run now; ``NOSCRIPT`` means it did not run, so nothing is done twice.
    Raises an error reply."""
    if isinstance(reply, NoScriptError):
        return script(keys=keys, args=args)
    if isinstance(reply, Exception):
        raise reply
    return reply


@functools.lru_cache(maxsize=1024)
def _site_names(prefix: str, site_id: str) -> tuple[str, str]:
    """A site's ``pending`` field and visitor key (made once, not once a batch)."""
    return site_field(site_id), RedisKeys(prefix).visitors(site_id)


@functools.lru_cache(maxsize=16_384)
def _page_names(prefix: str, site_id: str, path: str) -> tuple[str, str]:
    """A page's ``pending`` field and visitor key (whose name hashes the path): made
    once per page of a process's recent batches, not once a batch."""
    return page_field(site_id, path), RedisKeys(prefix).visitors(site_id, path)


def ingest_arguments(
    keys: RedisKeys,
    batch_id: str,
    payload: bytes,
    views: Sequence[PageView],
    reads: Sequence[tuple[str, str]] = (),
) -> tuple[list[str], list[Any]]:
    """KEYS and ARGV of the ingest script for one batch; ``reads`` are (site, path) pairs
    of the batch's views whose counters the script returns (:func:`read_counts`)."""
    # Per page: its views and distinct visitors (a site's are its pages' summed); key
    # names and fields are then made once per page, not once per view (a batch is
    # mostly a few pages), and come from a cache (:func:`_page_names`).
    pages: dict[tuple[str, str], list[Any]] = {}
    for view in views:
        page = (view.site_id, view.path)
        seen = pages.get(page)
        if seen is None:
            seen = pages[page] = [0, set()]
        seen[0] += 1
        seen[1].add(view.lifetime_visitor)
    sites: dict[str, list[Any]] = {}
    for (site, _path), (count, members) in pages.items():
        seen = sites.get(site)
        if seen is None:
            sites[site] = [count, set(members)]
        else:
            seen[0] += count
            seen[1] |= members
    argv: list[Any] = [
        batch_id,
        payload,
        EXACT_UNIQUES_BELOW,
        VISITOR_TTL,
        len(sites) + len(pages),
        len(reads),
        VISITOR_WIDTH,
    ]
    visitors: dict[str, set[bytes]] = {}
    for site, (count, members) in sites.items():
        field, key = _site_names(keys.prefix, site)
        argv += [field, count]
        visitors[key] = members
    for (site, path), (count, members) in pages.items():
        field, key = _page_names(keys.prefix, site, path)
        argv += [field, count]
        visitors[key] = members
    for members in visitors.values():
        if set(map(len, members)) != {VISITOR_WIDTH}:  # the script splits by width
            raise ValueError(f"a visitor hash is not {VISITOR_WIDTH} bytes")
        argv.append(b"".join(members))
    marks: list[str] = []
    first_visitor_key = 4 + 2 * len(reads)  # Lua's 1-based KEYS index
    position = {key: first_visitor_key + n for n, key in enumerate(visitors)}
    for site_id, path in reads:
        marks += [keys.seeded(site_id), keys.seeded(site_id, path)]
        argv += [
            site_field(site_id),
            page_field(site_id, path),
            position[keys.visitors(site_id)],
            position[keys.visitors(site_id, path)],
            imported_site_field(site_id),
            imported_page_field(site_id, path),
        ]
    return [keys.stream, keys.pending, keys.totals, *marks, *visitors], argv


def read_counts(
    reads: Sequence[tuple[str, str]], reply: Sequence[int]
) -> dict[tuple[str, str], list[int]]:
    """The ingest script's reply: ``COUNT``'s 10 numbers per (site, path) of ``reads``."""
    values = [int(value) for value in reply]
    return {read: values[10 * n : 10 * n + 10] for n, read in enumerate(reads)}
