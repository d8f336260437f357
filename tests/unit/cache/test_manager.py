"""The cache manager on its local storage: reads through ordered storages, TTL,
invalidation by group, stampede protection across threads, and loaders that fail."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import pytest

from page_tracker.cache import LOCAL, REDIS, JSONSerializer, LocalStorage, Manager, Node


@dataclass(frozen=True)
class Pair:
    views: int
    visitors: int


class BytesStorage:
    """A second storage that keeps bytes, as Redis does (in memory: unit tests need no
    network; the real Redis storage has its integration tests)."""

    serialized = True

    def __init__(self) -> None:
        self.values: dict[str, bytes] = {}
        self.tags: dict[str, set[str]] = {}

    def get(self, key: str) -> Any | None:
        return self.values.get(key)

    def set(self, key: str, value: Any, ttl: float, tag: str) -> None:
        self.values[key] = value
        self.tags.setdefault(tag, set()).add(key)

    def delete(self, key: str) -> None:
        self.values.pop(key, None)

    def delete_tag(self, tag: str) -> None:
        for key in self.tags.pop(tag, set()):
            self.values.pop(key, None)


NODE: Node[Pair] = Node("pairs", ttl=60, type_=Pair)


def manager_with(*storages: tuple[str, Any]) -> Manager:
    manager = Manager()
    for name, storage in storages:
        manager.register_storage(name, storage)
    manager.register_node(NODE)
    return manager


def counting(value: Pair) -> tuple[list[int], Any]:
    calls: list[int] = []

    def load() -> Pair:
        calls.append(1)
        return value

    return calls, load


def test_should_load_once_then_answer_from_the_cache() -> None:
    manager = manager_with((LOCAL, LocalStorage()))
    calls, load = counting(Pair(3, 2))

    first = manager.get(NODE, "site", "/a", load)
    second = manager.get(NODE, "site", "/a", load)

    assert first == second == Pair(3, 2)
    assert len(calls) == 1
    assert manager.stats() == {"pairs.miss": 1, "pairs.load": 1, "pairs.hit": 1}


def test_should_keep_keys_of_other_details_and_groups_apart() -> None:
    manager = manager_with((LOCAL, LocalStorage()))

    manager.get(NODE, "site", "/a", lambda: Pair(1, 1))
    manager.get(NODE, "site", "/b", lambda: Pair(2, 2))
    manager.get(NODE, "other", "/a", lambda: Pair(3, 3))

    assert manager.get(NODE, "site", "/a", lambda: Pair(0, 0)) == Pair(1, 1)
    assert manager.get(NODE, "site", "/b", lambda: Pair(0, 0)) == Pair(2, 2)
    assert manager.get(NODE, "other", "/a", lambda: Pair(0, 0)) == Pair(3, 3)


def test_should_fill_the_earlier_storage_from_a_later_one() -> None:
    local, shared = LocalStorage(), BytesStorage()
    writer = manager_with((LOCAL, LocalStorage()), (REDIS, shared))
    writer.get(NODE, "site", "/", lambda: Pair(7, 5))  # another process filled Redis
    reader = manager_with((LOCAL, local), (REDIS, shared))

    found = reader.get(NODE, "site", "/", lambda: pytest.fail("loaded despite Redis"))

    assert found == Pair(7, 5)
    assert local.get(NODE.key("site", "/")) is not None
    assert shared.values[NODE.key("site", "/")] == b'{"views":7,"visitors":5}'


def test_should_drop_an_unreadable_shared_value_and_load() -> None:
    shared = BytesStorage()
    shared.values[NODE.key("site", "/")] = b'{"views":"many"}'  # another version's shape
    manager = manager_with((REDIS, shared))

    assert manager.get(NODE, "site", "/", lambda: Pair(1, 1)) == Pair(1, 1)
    assert shared.values[NODE.key("site", "/")] == b'{"views":1,"visitors":1}'


def test_should_invalidate_a_whole_group_in_every_storage() -> None:
    local, shared = LocalStorage(), BytesStorage()
    manager = manager_with((LOCAL, local), (REDIS, shared))
    for path in ("/a", "/b"):
        manager.get(NODE, "site", path, lambda: Pair(1, 1))
    manager.get(NODE, "other", "/a", lambda: Pair(9, 9))

    manager.invalidate(["site"])

    assert manager.get(NODE, "site", "/a", lambda: Pair(2, 2)) == Pair(2, 2)
    assert manager.get(NODE, "site", "/b", lambda: Pair(3, 3)) == Pair(3, 3)
    assert manager.get(NODE, "other", "/a", lambda: Pair(0, 0)) == Pair(9, 9)


def test_should_remove_one_entry_from_one_storage() -> None:
    local, shared = LocalStorage(), BytesStorage()
    manager = manager_with((LOCAL, local), (REDIS, shared))
    manager.get(NODE, "site", "/a", lambda: Pair(1, 1))

    manager.remove(NODE, "site", "/a", storage=LOCAL)

    assert local.get(NODE.key("site", "/a")) is None
    assert NODE.key("site", "/a") in shared.values


def test_should_expire_entries_after_their_ttl() -> None:
    now = [0.0]
    manager = manager_with((LOCAL, LocalStorage(timer=lambda: now[0])))
    manager.get(NODE, "site", "/", lambda: Pair(1, 1))

    now[0] = 59.0
    assert manager.get(NODE, "site", "/", lambda: Pair(2, 2)) == Pair(1, 1)
    now[0] = 61.0
    assert manager.get(NODE, "site", "/", lambda: Pair(2, 2)) == Pair(2, 2)


def test_should_evict_the_least_recently_used_beyond_its_size() -> None:
    local = LocalStorage(maxsize=2)
    manager = manager_with((LOCAL, local))
    for path in ("/a", "/b", "/c"):
        manager.get(NODE, "site", path, lambda: Pair(1, 1))

    assert len(local) == 2
    assert local.get(NODE.key("site", "/a")) is None


def test_should_not_cache_when_the_ttl_is_zero() -> None:
    manager = manager_with((LOCAL, LocalStorage()))
    manager.register_node(NODE, ttl=0)
    calls, load = counting(Pair(1, 1))

    manager.get(NODE, "site", "/", load)
    manager.get(NODE, "site", "/", load)

    assert len(calls) == 2


def test_should_cache_nothing_when_the_loader_fails() -> None:
    manager = manager_with((LOCAL, LocalStorage()))

    def broken() -> Pair:
        raise RuntimeError("database down")

    with pytest.raises(RuntimeError):
        manager.get(NODE, "site", "/", broken)
    assert manager.get(NODE, "site", "/", lambda: Pair(4, 4)) == Pair(4, 4)


def test_should_cache_none_as_a_value() -> None:
    node: Node[Pair | None] = Node("maybe", ttl=60, type_=Pair | None)
    manager = manager_with((LOCAL, LocalStorage()), (REDIS, BytesStorage()))
    calls: list[int] = []

    def load() -> Pair | None:
        calls.append(1)
        return None

    assert manager.get(node, "site", "/", load) is None
    assert manager.get(node, "site", "/", load) is None
    assert len(calls) == 1


def test_should_call_the_loader_once_for_32_concurrent_reads_of_a_cold_key() -> None:
    manager = manager_with((LOCAL, LocalStorage()))
    calls: list[int] = []
    start = threading.Barrier(32)
    results: list[Pair] = []

    def load() -> Pair:
        calls.append(1)
        time.sleep(0.2)  # long enough for every other reader to arrive
        return Pair(1, 1)

    def read() -> None:
        start.wait()
        results.append(manager.get(NODE, "site", "/", load))

    threads = [threading.Thread(target=read) for _ in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(calls) == 1
    assert results == [Pair(1, 1)] * 32
    assert manager.stats()["pairs.load"] == 1


def test_should_load_different_keys_in_parallel() -> None:
    manager = manager_with((LOCAL, LocalStorage()))
    both_inside = threading.Barrier(2, timeout=5)

    def load() -> Pair:
        both_inside.wait()  # a lock shared by the keys would deadlock here
        return Pair(1, 1)

    threads = [
        threading.Thread(target=manager.get, args=(NODE, "site", path, load))
        for path in ("/a", "/b")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not both_inside.broken


def test_should_release_the_key_locks_after_use() -> None:
    manager = manager_with((LOCAL, LocalStorage()))
    for index in range(100):
        manager.get(NODE, "site", f"/{index}", lambda: Pair(1, 1))

    assert len(manager._locks) == 0


def test_should_refuse_a_node_name_with_the_key_separator() -> None:
    with pytest.raises(ValueError, match=r"no '\|'"):
        Node("a|b", ttl=1, type_=int)


@pytest.mark.parametrize(
    "value",
    [{"text": "\u00e9\u4e2d\U0001f600", "n": [1, 2.5, None, True]}, "\x00\x1f", "", [], {}],
)
def test_should_round_trip_json_values(value: Any) -> None:
    serializer = JSONSerializer()

    assert serializer.loads(serializer.dumps(value)) == value


def test_should_refuse_bytes_that_are_not_its_json() -> None:
    with pytest.raises(ValueError, match=r"(?i)expecting|decode|codec"):
        JSONSerializer().loads(b"\xff\xfe not json")
