"""The access epoch's mirror in Redis (``auth.epoch_mirror``): a reader trusts it only
while no change of access is under way, and never fills it with a value read before a
change that began since it looked. Real Redis; no database needed."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
import redis
from flask import Flask

from page_tracker.auth.epoch_mirror import EpochMirror, Seen
from page_tracker.errors import ServiceUnavailable
from page_tracker.redis_client import carried, read_along, riders


@pytest.fixture
def client(redis_url: str, redis_prefix: str) -> Iterator[redis.Redis]:
    found = redis.Redis.from_url(redis_url)
    yield found
    keys = list(found.scan_iter(f"{redis_prefix}*"))
    if keys:
        found.delete(*keys)
    found.close()


@pytest.fixture
def errors() -> list[str]:
    return []


@pytest.fixture
def mirror(client: redis.Redis, redis_prefix: str, errors: list[str]) -> EpochMirror:
    return EpochMirror(client, redis_prefix, 300.0, lambda: errors.append("redis-error"))


def unreachable() -> redis.Redis:
    """A client of a port nobody listens on (a Redis that is down)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return redis.Redis(port=port, socket_connect_timeout=0.5, socket_timeout=0.5)


def test_should_mirror_what_a_reader_read_from_the_database(mirror: EpochMirror) -> None:
    # Given an empty mirror
    seen = mirror.read()
    assert seen.epoch is None
    assert seen.fence == ""
    # When a reader fills it with the value it read
    assert mirror.fill(seen.fence, 42)
    # Then the next reader finds it
    assert mirror.read().epoch == 42


def test_should_not_fill_with_a_value_read_before_a_change(mirror: EpochMirror) -> None:
    # Given a reader that looked (nothing mirrored) and then read the database
    seen = mirror.read()
    assert seen.fence is not None
    # When a change begins and ends before it fills the mirror
    mirror.mark()
    mirror.done()
    # Then its value, perhaps older than the change, is not mirrored
    assert not mirror.fill(seen.fence, 1)
    assert mirror.read().epoch is None


def test_should_send_readers_to_the_database_while_a_change_is_under_way(
    mirror: EpochMirror,
) -> None:
    # Given a mirrored epoch
    assert mirror.fill(mirror.read().fence or "", 7)
    # When a change begins
    mirror.mark()
    # Then readers find no epoch, and may not fill one until it ended
    seen = mirror.read()
    assert seen.epoch is None
    assert seen.fence is not None
    assert not mirror.fill(seen.fence, 8)
    mirror.done()
    seen = mirror.read()
    assert seen.fence is not None
    assert mirror.fill(seen.fence, 8)
    assert mirror.read().epoch == 8


def test_should_count_concurrent_changes(mirror: EpochMirror) -> None:
    # Given two changes under way
    mirror.mark()
    mirror.mark()
    # When one ends
    mirror.done()
    # Then the other still keeps readers off the mirror
    seen = mirror.read()
    assert seen.fence is not None
    assert not mirror.fill(seen.fence, 3)
    mirror.done()
    seen = mirror.read()
    assert seen.fence is not None
    assert mirror.fill(seen.fence, 3)


def test_should_let_a_change_that_never_ended_lapse(client: redis.Redis, redis_prefix: str) -> None:
    # Given a change whose end never reached Redis (its process died, Redis failed)
    mirror = EpochMirror(client, redis_prefix, 300.0, lambda: None, lease=0.2)
    mirror.mark()
    seen = mirror.read()
    assert seen.fence is not None
    assert not mirror.fill(seen.fence, 5)
    # When its lease lapses
    time.sleep(0.3)
    # Then readers fill the mirror again (the change committed or not long ago)
    assert mirror.fill(seen.fence, 5)
    assert mirror.read().epoch == 5


def test_should_expire_the_mirrored_value_with_the_access_ttl(
    client: redis.Redis, redis_prefix: str
) -> None:
    mirror = EpochMirror(client, redis_prefix, 60.0, lambda: None)
    assert mirror.fill(mirror.read().fence or "", 9)
    assert 0 < client.pttl(mirror.key) <= 60_000
    # a change under way never expires (its count must outlive it)
    mirror.mark()
    assert client.pttl(mirror.key) == -1


def test_should_fail_closed_when_redis_is_unreachable(redis_prefix: str, errors: list[str]) -> None:
    mirror = EpochMirror(unreachable(), redis_prefix, 300.0, lambda: errors.append("e"))
    # a reader gets neither an epoch nor a fence: it reads the database, fills nothing
    seen = mirror.read()
    assert seen.epoch is None
    assert seen.fence is None
    assert not mirror.fill("", 1)
    # a change is refused before it commits
    with pytest.raises(ServiceUnavailable):
        mirror.mark()
    # a renewal or an end is logged and counted only (the first mark's lease holds)
    mirror.mark(renew=True)
    mirror.done()
    assert len(errors) == 5


def test_should_carry_a_requests_reads_along_in_the_same_round_trip(
    client: redis.Redis, mirror: EpochMirror, redis_prefix: str
) -> None:
    # Given a request that asked for two reads to ride along (one of a missing field)
    client.hset(f"{redis_prefix}pending", "s1", 5)
    with Flask(__name__).test_request_context():
        read_along(f"{redis_prefix}pending", "s1")
        read_along(f"{redis_prefix}pending", "s2")
        assert carried(f"{redis_prefix}pending", "s1") == (False, None)  # not sent yet
        # When the epoch is read
        assert mirror.fill(mirror.read().fence or "", 9)
        assert riders() == []
        seen = mirror.read()
        # Then both answers came with it, each handed out once
        assert seen.epoch == 9
        assert carried(f"{redis_prefix}pending", "s1") == (True, b"5")
        assert carried(f"{redis_prefix}pending", "s1") == (False, None)
        assert carried(f"{redis_prefix}pending", "s2") == (True, None)


def test_should_leave_the_reads_to_their_readers_when_redis_fails(errors: list[str]) -> None:
    # Given a request whose read rides along with the epoch's, and Redis down
    mirror = EpochMirror(unreachable(), "p:", 300.0, lambda: errors.append("redis-error"))
    with Flask(__name__).test_request_context():
        read_along("p:pending", "s1")
        # When the epoch is read
        seen = mirror.read()
        # Then the database is asked, and the reader of the waiting views reads them itself
        assert seen == Seen(None, None)
        assert errors == ["redis-error"]
        assert carried("p:pending", "s1") == (False, None)
        assert riders() == [("p:pending", "s1")]


def test_should_carry_nothing_outside_a_request(mirror: EpochMirror) -> None:
    read_along("p:pending", "s1")  # ignored: no request to keep it for
    assert riders() == []
    assert carried("p:pending", "s1") == (False, None)
    assert mirror.read().epoch is None
