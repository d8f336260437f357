"""The Bloom filter of known keys: no false negatives, few false positives, rebuilt
after its refresh time, and keys added in this process known at once."""

from __future__ import annotations

import threading

from hypothesis import given
from hypothesis import strategies as st

from page_tracker.cache import KnownKeys


def test_should_know_every_loaded_key_and_few_others() -> None:
    keys = [f"site{index:05d}" for index in range(5000)]
    known = KnownKeys(lambda: keys, error_rate=0.01)

    assert all(known.might_contain(key) for key in keys)
    false_positives = sum(known.might_contain(f"other{index}") for index in range(10_000))
    assert false_positives < 300  # 1 % expected; 3 % leaves room for chance


@given(st.lists(st.text(), max_size=50), st.text())
def test_should_never_refuse_a_key_it_loaded(keys: list[str], extra: str) -> None:
    known = KnownKeys(lambda: keys)

    assert all(known.might_contain(key) for key in keys)
    known.add(extra)
    assert known.might_contain(extra)


def test_should_see_keys_created_elsewhere_after_the_refresh() -> None:
    keys = ["a"]
    now = [0.0]
    known = KnownKeys(lambda: list(keys), refresh=10, clock=lambda: now[0])
    assert not known.might_contain("b")

    keys.append("b")
    now[0] = 5.0
    assert not known.might_contain("b")  # within the refresh: the old filter
    now[0] = 10.0
    assert known.might_contain("b")
    assert known.rebuilds == 2


def test_should_load_once_for_concurrent_first_lookups() -> None:
    loads: list[int] = []
    start = threading.Barrier(16)

    def load_all() -> list[str]:
        loads.append(1)
        return ["a"]

    known = KnownKeys(load_all)

    def look() -> None:
        start.wait()
        assert known.might_contain("a")

    threads = [threading.Thread(target=look) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert loads == [1]


def test_should_rebuild_at_the_next_lookup_when_expired() -> None:
    keys = ["a"]
    known = KnownKeys(lambda: list(keys), refresh=3600)
    known.might_contain("a")
    keys.append("b")

    known.expire()

    assert known.might_contain("b")
