"""The read cache (seed 002, :mod:`page_tracker.cache`) on the real stores: public
counters, badges and stats reports are fresh after a group commit, a flush, an import
and its deletion, in embedded and Redis mode on SQLite, MariaDB and PostgreSQL; unknown
site ids cost no query; the Redis storage and its lock work across processes."""

from __future__ import annotations

import multiprocessing
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from flask import Flask

from page_tracker.buffer.tasks import get_flusher
from page_tracker.cache import CACHE, REDIS, LocalStorage, Manager, Node, RedisStorage
from page_tracker.db import get_db
from page_tracker.stats.counters import CachedCounterReader, DatabaseCounterReader
from tests.integration.api.test_stats_api import Tracker, _tracker
from tests.integration.imports.conftest import imports_of, run_cli
from tests.integration.imports.files import write_plausible_csv
from tests.integration.imports.test_busuanzi import busuanzi_numbers
from tests.integration.queries import count_queries
from tests.integration.sites import add_site
from tests.integration.test_redis_mode import post_hits

MODES = ("embedded", "redis")
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"


@pytest.fixture(params=MODES)
def app(
    request: pytest.FixtureRequest,
    clean_database: str,
    make_app: Callable[..., Flask],
    redis_url: str,
    redis_prefix: str,
) -> Iterator[Flask]:
    """An app in each mode (Redis mode under this test's own key prefix)."""
    if request.param == "embedded":
        yield make_app(DATABASE_URL=clean_database)
        return
    yield make_app(DATABASE_URL=clean_database, REDIS_URL=redis_url, REDIS_KEY_PREFIX=redis_prefix)
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(f"{redis_prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()


def settle(app: Flask) -> None:
    """Redis mode: flush what the hits left in Redis (embedded mode wrote them)."""
    with app.app_context():
        flusher = get_flusher(app)
        if flusher is not None:
            flusher.flush()


def public_counters(app: Flask, site: str, path: str = "/p0") -> tuple[int, int, int, int]:
    answer = app.test_client().get(f"/api/v1/counters/{site}", query_string={"path": path})
    assert answer.status_code == 200, answer.text
    body = answer.get_json()
    return body["site_pv"], body["site_uv"], body["page_pv"], body["page_uv"]


def badge_value(app: Flask, site: str) -> str:
    answer = app.test_client().get(f"/badge/{site}.svg")
    assert answer.status_code == 200
    return answer.text.rsplit("<text", 1)[1].split(">")[1].split("<")[0]


def import_counts(app: Flask, site: str, tmp_path: Path, csv: str) -> int:
    counts = tmp_path / f"busuanzi-{uuid.uuid4().hex}.csv"
    counts.write_text(csv, encoding="utf-8")
    result = run_cli(app, "import", "busuanzi", site, str(counts))
    assert result.exit_code == 0, result.output
    return imports_of(app, site)[-1].id


def test_should_show_fresh_counters_after_writes_an_import_and_its_deletion(
    app: Flask, tmp_path: Path
) -> None:
    # Given a site whose counters were read (so they are cached)
    site = add_site(app)
    assert public_counters(app, site) == (0, 0, 0, 0)
    assert badge_value(app, site) == "0"

    # When hits are written (group commit, or Redis then a flush)
    post_hits(app, site, 10)  # 2 on /p0, visitors 0..9
    settle(app)
    # Then the cached counters show them at once
    assert public_counters(app, site) == (10, 10, 2, 2)
    assert badge_value(app, site) == "10"

    # When an import adds counts, the counters show them at once
    import_id = import_counts(app, site, tmp_path, "/p0,1000,400\n")
    assert public_counters(app, site) == (1010, 410, 1002, 402)
    assert badge_value(app, site) == "1,010"

    # When the import is deleted, every reader is back to the hits alone
    assert run_cli(app, "imports", "delete", str(import_id)).exit_code == 0
    assert public_counters(app, site) == (10, 10, 2, 2)
    assert badge_value(app, site) == "10"
    shown = busuanzi_numbers(app, "https://example.com/p0")  # one more hit, its own
    assert (shown["site_pv"], shown["site_uv"], shown["page_pv"]) == (11, 11, 3)


def test_should_show_fresh_stats_reports_after_writes_an_import_and_its_deletion(
    app: Flask, tmp_path: Path
) -> None:
    tracker: Tracker = _tracker(app)
    day = time.strftime("%Y-%m-%d", time.gmtime())
    summary = f"/stats?from={day}&to={day}&tz=UTC"

    def totals() -> tuple[int, int]:
        answer = tracker.get(summary)
        assert answer.status_code == 200, answer.text
        body = answer.get_json()
        return body["totals"]["pageviews"], body["totals"]["visitors"]

    def pages() -> list[tuple[str, int]]:
        answer = tracker.get(f"/stats/pages?from={day}&to={day}&tz=UTC")
        assert answer.status_code == 200, answer.text
        return [(item["value"], item["pageviews"]) for item in answer.get_json()["items"]]

    assert totals() == (0, 0)
    assert pages() == []

    tracker.hit(time.strftime("%Y-%m-%dT%H:%M", time.gmtime()), "/a", "2.16.0.1", FIREFOX, None)
    settle(app)
    assert totals() == (1, 1)
    assert pages() == [("/a", 1)]

    import_id = import_plausible_day(app, tracker.site, tmp_path, day)
    assert totals() == (1 + 50, 1 + 20)
    assert sorted(pages()) == [("/a", 1), ("/b", 50)]

    assert run_cli(app, "imports", "delete", str(import_id)).exit_code == 0
    assert totals() == (1, 1)
    assert pages() == [("/a", 1)]


def import_plausible_day(app: Flask, site: str, tmp_path: Path, day: str) -> int:
    """A Plausible export of one day: 50 views by 20 visitors, all on ``/b``."""
    folder = tmp_path / "plausible"
    folder.mkdir()
    stamp = day.replace("-", "")
    write_plausible_csv(
        folder / f"imported_visitors_{stamp}_{stamp}.csv",
        ["date", "visitors", "pageviews", "bounces", "visits", "visit_duration"],
        [[day, 20, 50, 0, 20, 0]],
    )
    write_plausible_csv(
        folder / f"imported_pages_{stamp}_{stamp}.csv",
        ["date", "hostname", "page", "visits", "visitors", "pageviews", "exits", "time_on_page"],
        [[day, "site.example", "/b", 20, 20, 50, 20, 0]],
    )
    result = run_cli(app, "import", "plausible", site, str(folder))
    assert result.exit_code == 0, result.output
    return imports_of(app, site)[-1].id


def test_should_answer_unknown_site_ids_without_a_query(app: Flask) -> None:
    site = add_site(app)
    public_counters(app, site)  # the Bloom filter is built on the first lookup
    queries = count_queries(app)
    client = app.test_client()

    answers = [client.get(f"/api/v1/counters/{uuid.uuid4().hex[:12]}") for _ in range(20)]
    answers += [client.get(f"/badge/{uuid.uuid4().hex[:12]}.svg") for _ in range(20)]
    answers += [client.get("/api/v1/counters/%00%ff\u202e"), client.get("/badge/..%2F.svg")]

    assert {answer.status_code for answer in answers} == {404}
    assert queries() == 0
    # while a site created in this process is known at once
    other = add_site(app, "other.example")
    assert public_counters(app, other) == (0, 0, 0, 0)


def test_should_count_cache_hits_misses_and_loads_in_the_readiness_gauges(app: Flask) -> None:
    site = add_site(app)
    for _ in range(3):
        public_counters(app, site)

    body = app.test_client().get("/readyz").get_json()

    if app.extensions.get("page_tracker.redis") is None:
        # embedded: the counter reader is the process's cache itself, the node is off
        assert (body["cache_counters_misses"], body["cache_counters_hits"]) == (0, 0)
        return
    assert body["cache_counters_misses"] == 1
    assert body["cache_counters_loads"] == 1
    assert body["cache_counters_hits"] == 2
    assert body["cache_local_entries"] >= 1


def test_should_lower_embedded_counters_cached_by_another_process_after_their_ttl(
    clean_database: str, make_app: Callable[..., Flask], tmp_path: Path
) -> None:
    # Given another web process's counter cache (its own reader; this app's CLI cannot
    # reach it) that read the counters of a site with an import
    app = make_app(DATABASE_URL=clean_database)
    site = add_site(app)
    import_id = import_counts(app, site, tmp_path, "/post,300,30\n")
    with app.app_context():
        other = CachedCounterReader(
            DatabaseCounterReader(get_db().sessions.session_factory), ttl=0.05
        )
    assert other.read(site, "/post").page_pv == 300

    # When the import is deleted and that cache's entry expires
    assert run_cli(app, "imports", "delete", str(import_id)).exit_code == 0
    time.sleep(0.1)

    # Then it reads the lowered totals (values only rise while an entry is fresh)
    assert other.read(site, "/post").page_pv == 0


@pytest.fixture
def shared_redis(redis_url: str, redis_prefix: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    keys = list(client.scan_iter(f"{redis_prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()


NUMBERS: Node[list[int]] = Node("numbers", ttl=60, type_=list[int])


def redis_manager(client: redis.Redis, prefix: str, errors: list[int] | None = None) -> Manager:
    manager = Manager(lock_timeout=5)
    found = errors if errors is not None else []
    manager.register_storage(REDIS, RedisStorage(client, prefix, lambda: found.append(1)))
    manager.register_node(NUMBERS)
    return manager


def test_should_share_values_and_invalidation_through_redis(
    shared_redis: redis.Redis, redis_prefix: str
) -> None:
    writer = redis_manager(shared_redis, redis_prefix)
    reader = redis_manager(shared_redis, redis_prefix)
    writer.get(NUMBERS, "site", "a", lambda: [1, 2])
    writer.get(NUMBERS, "site", "b\u00e9\x00", lambda: [3])
    writer.get(NUMBERS, "other", "a", lambda: [4])

    assert reader.get(NUMBERS, "site", "a", lambda: pytest.fail("not shared")) == [1, 2]
    assert reader.get(NUMBERS, "site", "b\u00e9\x00", lambda: [0]) == [3]
    ttl = shared_redis.pttl(f"{redis_prefix}cache:numbers|site|a")
    assert 0 < ttl <= 60_000

    reader.invalidate(["site"])

    assert writer.get(NUMBERS, "site", "a", lambda: [5]) == [5]
    assert writer.get(NUMBERS, "other", "a", lambda: [0]) == [4]


def test_should_answer_by_loading_when_redis_is_down(tmp_path: Path) -> None:
    client = redis.Redis(unix_socket_path=str(tmp_path / "nothing.sock"))
    errors: list[int] = []
    manager = redis_manager(client, "down:", errors)
    manager.register_storage("local", LocalStorage())

    assert manager.get(NUMBERS, "site", "a", lambda: [1]) == [1]
    assert errors  # counted (and logged), never raised
    manager.invalidate(["site"])  # does not raise either


def _load_in_process(redis_url: str, prefix: str, start_at: float) -> None:
    """One process's cold read (run by ``multiprocessing``): counts its loads in Redis."""
    client = redis.Redis.from_url(redis_url)
    manager = redis_manager(client, prefix)

    def load() -> list[int]:
        client.incr(f"{prefix}loads")
        time.sleep(0.5)  # long enough for the other process to ask meanwhile
        return [42]

    time.sleep(max(0.0, start_at - time.time()))
    if manager.get(NUMBERS, "site", "cold", load) != [42]:
        raise SystemExit(3)
    client.close()


def test_should_load_a_cold_key_once_across_two_processes(
    shared_redis: redis.Redis, redis_url: str, redis_prefix: str
) -> None:
    context = multiprocessing.get_context("spawn")
    start_at = time.time() + 2.0  # both processes have started by then
    workers = [
        context.Process(target=_load_in_process, args=(redis_url, redis_prefix, start_at))
        for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        # Generous: a spawned interpreter imports the app first, which takes long on a
        # loaded machine (the load itself is 0.5 s); only a hang should fail here.
        worker.join(timeout=120)

    assert [worker.exitcode for worker in workers] == [0, 0]
    assert shared_redis.get(f"{redis_prefix}loads") == b"1"
    assert not list(shared_redis.scan_iter(f"{redis_prefix}cachelock:*"))


def test_should_use_the_app_manager_with_redis_in_redis_mode(app: Flask) -> None:
    manager: Any = CACHE.get(app)
    storages = list(manager.all_storage)
    assert storages[0] == "local"
    assert (REDIS in storages) == (app.extensions.get("page_tracker.redis") is not None)
