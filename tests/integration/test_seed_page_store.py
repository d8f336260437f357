"""Both counter stores against the real servers, the database one on all three kinds."""

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis

from page_tracker.db import Database, make_engine
from page_tracker.errors import StoreError
from page_tracker.seedpage.store import DatabaseCounterStore, RedisCounterStore


@pytest.fixture
def database_store(clean_database: str) -> Iterator[DatabaseCounterStore]:
    database = Database(make_engine(clean_database))
    yield DatabaseCounterStore(database.sessions.session_factory)
    database.engine.dispose()


@pytest.fixture
def redis_store(redis_url: str, redis_prefix: str) -> Iterator[RedisCounterStore]:
    client = redis.Redis.from_url(redis_url)
    yield RedisCounterStore(client, redis_prefix)
    for key in client.scan_iter(f"{redis_prefix}*"):
        client.delete(key)
    client.close()


def test_should_count_from_one_in_the_database(database_store: DatabaseCounterStore) -> None:
    assert database_store.get("page_views") == 0
    assert [database_store.increment("page_views") for _ in range(3)] == [1, 2, 3]
    assert database_store.get("page_views") == 3
    assert database_store.get("other") == 0


def test_should_count_exactly_under_concurrency_in_the_database(
    database_store: DatabaseCounterStore,
) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        values = list(pool.map(lambda _: database_store.increment("page_views"), range(80)))
    assert sorted(values) == list(range(1, 81))
    assert database_store.get("page_views") == 80


def test_should_count_in_redis(redis_store: RedisCounterStore) -> None:
    assert redis_store.get("page_views") == 0
    assert [redis_store.increment("page_views") for _ in range(3)] == [1, 2, 3]
    assert redis_store.get("page_views") == 3


def test_should_raise_store_error_when_redis_is_down() -> None:
    client = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=1)
    store = RedisCounterStore(client)
    with pytest.raises(StoreError):
        store.increment("page_views")
    with pytest.raises(StoreError):
        store.get("page_views")


def test_should_raise_store_error_when_the_database_is_down() -> None:
    engine = make_engine("postgresql+psycopg://postgres@127.0.0.1:1/nothing")
    store = DatabaseCounterStore(Database(engine).sessions.session_factory)
    with pytest.raises(StoreError):
        store.increment("page_views")
    engine.dispose()
