"""``page-tracker import busuanzi``: starting counts from a CSV or a Busuanzi Redis, shown
by the stock Busuanzi endpoint as old + new counts (on each database)."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from flask import Flask

from tests.integration.imports.conftest import add_site, imports_of, run_cli, snapshot

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)


def busuanzi_numbers(app: Flask, page: str) -> dict[str, int]:
    """What busuanzi.pure.js receives on ``page`` (one new reader)."""
    answer = app.test_client(use_cookies=False).get(
        "/busuanzi",
        query_string={"jsonpCallback": "BusuanziCallback_1"},
        headers={"Referer": page, "User-Agent": CHROME},
        environ_base={"REMOTE_ADDR": "203.0.113.9"},
    )
    assert answer.status_code == 200
    found = re.fullmatch(r"try\{BusuanziCallback_1\((.*)\);\}catch\(e\)\{\}", answer.text)
    assert found, answer.text
    numbers: dict[str, int] = json.loads(found[1])
    return numbers


def test_should_show_old_plus_new_counts_on_the_busuanzi_endpoint(
    app: Flask, site: str, tmp_path: Path
) -> None:
    counts = tmp_path / "busuanzi.csv"
    counts.write_text(
        "url,page_pv,page_uv\n"
        "https://blog.example/post?utm_source=x,1200,800\n"
        "blog.example/about,30,20\n"
        "/,500\n",
        encoding="utf-8",
    )

    result = run_cli(
        app, "import", "busuanzi", site, str(counts), "--site-pv", "5000", "--site-uv", "2000"
    )

    assert result.exit_code == 0, result.output
    assert "3 rows, 1730 page views" in result.stdout
    assert snapshot(app, site)["totals"] == [
        ("(site)", 5000, 2000),
        ("/", 500, 0),
        ("/about", 30, 20),
        ("/post", 1200, 800),
    ]
    assert snapshot(app, site)["daily"] == []  # no dates: nothing lands on a day
    shown = busuanzi_numbers(app, "https://blog.example/post")
    assert (shown["site_pv"], shown["site_uv"], shown["page_pv"]) == (5001, 2001, 1201)


def test_should_derive_site_totals_from_the_pages_without_options(
    app: Flask, site: str, tmp_path: Path
) -> None:
    counts = tmp_path / "pages.csv"
    counts.write_text("/a,10,4\n/b,5,7\n", encoding="utf-8")

    assert run_cli(app, "import", "busuanzi", site, str(counts)).exit_code == 0

    assert snapshot(app, site)["totals"][0] == ("(site)", 15, 7)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("/a,ten\n", "bad.csv, line 1, column 2 (page_pv): expected a count, got 'ten'"),
        ("/a,1,2\n/b\n", "bad.csv, line 2: 1 fields, expected url,page_pv[,page_uv]"),
        ("https://other.example/x,1\n", "bad.csv, line 1, column 1 (url): 'https://other"),
        ("/a,1,-2\n", "bad.csv, line 1, column 3 (page_uv): expected a count, got '-2'"),
    ],
)
def test_should_refuse_bad_counts_and_change_nothing(
    app: Flask, site: str, tmp_path: Path, content: str, message: str
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(content, encoding="utf-8")

    result = run_cli(app, "import", "busuanzi", site, str(bad))

    assert result.exit_code == 1
    assert result.stderr.startswith(f"page-tracker: error: {message}"), result.stderr
    assert snapshot(app, site)["totals"] == []
    assert imports_of(app, site) == []


@pytest.fixture
def busuanzi_redis(redis_url: str) -> Iterator[tuple[redis.Redis, str]]:
    """The shared test Redis with a prefix of this test's own (its keys deleted after)."""
    client = redis.Redis.from_url(redis_url)
    prefix = f"bsz-test-{uuid.uuid4().hex[:12]}"
    yield client, prefix
    for key in client.scan_iter(match=f"{prefix}:*"):
        client.delete(key)
    client.close()


def md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def test_should_import_a_busuanzi_redis_and_refuse_it_twice(
    app: Flask, site: str, tmp_path: Path, busuanzi_redis: tuple[redis.Redis, str], redis_url: str
) -> None:
    # Given a self-hosted Busuanzi's keys for blog.example: the site by the middle 16 hex
    # digits of MD5(host), one page by MD5(path), one by MD5(host&path), one unknown
    client, prefix = busuanzi_redis
    site_key = md5("blog.example")[8:24]
    client.set(f"{prefix}:site_pv:{site_key}", 900)
    client.pfadd(f"{prefix}:site_uv:{site_key}", *[f"v{i}" for i in range(40)])
    pages = {md5("/post"): 300, md5("blog.example&/about"): 50, md5("/gone"): 7}
    client.zadd(f"{prefix}:page_pv:{site_key}", pages)
    client.pfadd(f"{prefix}:page_uv:{site_key}:{md5('/post')}", *[f"v{i}" for i in range(25)])
    paths = tmp_path / "paths.txt"
    paths.write_text("https://blog.example/about\n/post\n", encoding="utf-8")
    args = ["import", "busuanzi", site, "--from-redis", redis_url, "--prefix", prefix]

    result = run_cli(app, *args, "--paths", str(paths))

    assert result.exit_code == 0, result.output
    assert "1 pages (7 views) matched no known path" in result.stderr
    assert snapshot(app, site)["totals"] == [
        ("(site)", 900, 40),
        ("/about", 50, 0),
        ("/post", 300, 25),
    ]
    shown = busuanzi_numbers(app, "https://blog.example/post")
    assert (shown["site_pv"], shown["site_uv"], shown["page_pv"]) == (901, 41, 301)
    again = run_cli(app, *args)
    assert again.exit_code == 1
    assert "already imported" in again.stderr
    [run] = imports_of(app, site)
    assert run.name.startswith("redis://")
    assert "@" not in run.name


def test_should_refuse_a_redis_without_the_sites_counters(
    app: Flask, site: str, busuanzi_redis: tuple[redis.Redis, str], redis_url: str
) -> None:
    _client, prefix = busuanzi_redis

    result = run_cli(app, "import", "busuanzi", site, "--from-redis", redis_url, "--prefix", prefix)

    assert result.exit_code == 1
    assert f"no Busuanzi counters under prefix {prefix!r} for blog.example" in result.stderr
    assert imports_of(app, site) == []


@pytest.fixture
def redis_mode_app(
    clean_database: str, make_app: Callable[..., Flask], redis_url: str, redis_prefix: str
) -> Iterator[Flask]:
    """An app in Redis mode under this test's own key prefix (its keys deleted after)."""
    yield make_app(DATABASE_URL=clean_database, REDIS_URL=redis_url, REDIS_KEY_PREFIX=redis_prefix)
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(match=f"{redis_prefix}*"):
        client.delete(key)
    client.close()


def test_should_add_imported_visitors_to_redis_modes_visitor_sets(
    redis_mode_app: Flask, tmp_path: Path
) -> None:
    app = redis_mode_app
    site = add_site(app, "blog.example")
    counts = tmp_path / "busuanzi.csv"
    counts.write_text("/post,1200,800\n", encoding="utf-8")
    assert run_cli(app, "import", "busuanzi", site, str(counts), "--site-uv", "2000").exit_code == 0

    shown = busuanzi_numbers(app, "https://blog.example/post")

    assert (shown["site_pv"], shown["site_uv"], shown["page_pv"]) == (1201, 2001, 1201)
