"""Redis mode's Lua scripts on a real Redis: the one set -> HyperLogLog switch that both the
ingest and the seed script use."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from page_tracker.buffer.redis_keys import EXACT_UNIQUES_BELOW, SEED_TTL, VISITOR_TTL, RedisKeys
from page_tracker.buffer.redis_scripts import Scripts


@pytest.fixture
def client(redis_url: str, redis_prefix: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    for key in client.scan_iter(match=f"{redis_prefix}*"):
        client.delete(key)
    client.close()


def ingest(client: redis.Redis, keys: RedisKeys, visitor_key: str, members: list[bytes]) -> None:
    """One ingest call whose only visitor key is ``visitor_key``."""
    Scripts(client).ingest(
        keys=[keys.stream, keys.pending, keys.totals, visitor_key],
        # no pending fields, no reads, members of 16 bytes concatenated in one argument
        args=["batch", b"{}", EXACT_UNIQUES_BELOW, VISITOR_TTL, 0, 0, 16, b"".join(members)],
    )


def members(start: int, stop: int) -> list[bytes]:
    return [n.to_bytes(16, "big") for n in range(start, stop)]


def test_should_keep_an_exact_set_below_the_limit_and_switch_to_hyperloglog_at_it(
    client: redis.Redis, redis_prefix: str
) -> None:
    keys = RedisKeys(redis_prefix)
    key = keys.visitors("site00000001")

    ingest(client, keys, key, members(0, EXACT_UNIQUES_BELOW - 1))
    assert client.type(key) == b"set"
    assert client.scard(key) == EXACT_UNIQUES_BELOW - 1
    assert 0 < client.ttl(key) <= VISITOR_TTL

    ingest(client, keys, key, members(EXACT_UNIQUES_BELOW - 1, EXACT_UNIQUES_BELOW + 500))
    assert client.type(key) == b"string"  # a HyperLogLog from now on
    assert abs(client.pfcount(key) - (EXACT_UNIQUES_BELOW + 500)) <= 30


def test_should_switch_to_hyperloglog_only_when_a_batch_brings_the_set_a_new_member(
    client: redis.Redis, redis_prefix: str
) -> None:
    # The script counts a set only when members were added (a set it leaves is always
    # below the limit): known members alone change nothing, one new member switches it.
    keys = RedisKeys(redis_prefix)
    key = keys.visitors("site00000001")
    ingest(client, keys, key, members(0, EXACT_UNIQUES_BELOW - 1))

    ingest(client, keys, key, members(0, 50))
    assert client.type(key) == b"set"
    assert client.scard(key) == EXACT_UNIQUES_BELOW - 1

    ingest(
        client, keys, key, [*members(0, 3), *members(EXACT_UNIQUES_BELOW, EXACT_UNIQUES_BELOW + 1)]
    )
    assert client.type(key) == b"string"
    assert abs(client.pfcount(key) - EXACT_UNIQUES_BELOW) <= 20


@pytest.mark.parametrize("pages", [1, 600])
def test_should_add_every_pending_count_of_a_batch_of_many_pages(
    client: redis.Redis, redis_prefix: str, pages: int
) -> None:
    # Every field of a batch adds its count to what the field held (or to nothing).
    keys = RedisKeys(redis_prefix)
    fields = [f"p:site00000001:/p{n}" for n in range(pages)]
    client.hset(keys.pending, mapping=dict.fromkeys(fields[::2], 1_000_000_000_000))
    pairs: list[object] = []
    for n, field in enumerate(fields):
        pairs += [field, n + 1]

    Scripts(client).ingest(
        keys=[keys.stream, keys.pending, keys.totals],
        args=["batch", b"{}", EXACT_UNIQUES_BELOW, VISITOR_TTL, pages, 0, 16, *pairs],
    )

    stored = client.hgetall(keys.pending)
    assert {name.decode(): int(value) for name, value in stored.items()} == {
        field: n + 1 + (1_000_000_000_000 if n % 2 == 0 else 0) for n, field in enumerate(fields)
    }


def test_should_seed_through_the_same_switch_and_set_the_mark_when_asked(
    client: redis.Redis, redis_prefix: str
) -> None:
    keys = RedisKeys(redis_prefix)
    key, mark = keys.visitors("site00000001", "/p"), keys.seeded("site00000001", "/p")
    seed = Scripts(client).seed

    seed(keys=[key, mark], args=[EXACT_UNIQUES_BELOW, VISITOR_TTL, 0, *members(0, 600)])
    assert (client.type(key), client.exists(mark)) == (b"set", 0)
    seed(keys=[key, mark], args=[EXACT_UNIQUES_BELOW, VISITOR_TTL, 0, *members(600, 1600)])
    assert client.type(key) == b"string"
    seed(keys=[key, mark], args=[EXACT_UNIQUES_BELOW, VISITOR_TTL, 0, *members(1500, 2000)])
    seed(keys=[key, mark], args=[EXACT_UNIQUES_BELOW, VISITOR_TTL, SEED_TTL])

    assert abs(client.pfcount(key) - 2000) <= 40
    assert 0 < client.ttl(mark) <= SEED_TTL
