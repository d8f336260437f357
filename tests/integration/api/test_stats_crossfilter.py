"""Breakdowns and totals that follow the filters (issue 12 item 1, issue 10 item 4), on
each database, embedded and Redis mode: a page filter narrows the dimension tables to
that page's views, a dimension filter narrows the pages table and combines with a page
filter in the totals; two dimension filters (or a dimension table under another
dimension's filter) are refused with 400, never answered with a wrong number."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from flask import Flask

from page_tracker.buffer.tasks import get_flusher
from tests.integration.api.test_stats_api import HITS, Tracker, _tracker

MARCH = "from=2026-03-28&to=2026-03-31"


def _items(answer: Any) -> list[tuple[str, int, int]]:
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return [(i["value"], i["pageviews"], i["visitors"]) for i in answer.get_json()["items"]]


@pytest.fixture
def tracker(clean_database: str, make_app: Callable[..., Flask]) -> Tracker:
    found = _tracker(make_app(DATABASE_URL=clean_database))
    for hit in HITS:
        found.hit(*hit)
    return found


@pytest.fixture
def redis_tracker(
    make_app: Callable[..., Flask], clean_database: str, redis_url: str, redis_prefix: str
) -> Iterator[Tracker]:
    app = make_app(DATABASE_URL=clean_database, REDIS_URL=redis_url, REDIS_KEY_PREFIX=redis_prefix)
    found = _tracker(app)
    for hit in HITS:
        found.hit(*hit)
    flusher = get_flusher(app)
    assert flusher is not None
    flusher.flush()
    yield found
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(f"{redis_prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()


def _assert_page_filter_narrows_the_dimension_tables(tracker: Tracker) -> None:
    # /a was seen four times: Firefox (US, from news), Chrome (DE), Mobile Safari (US, from
    # news: that visitor's first view of /a, though not of the site) and Chrome (NL).
    page = f"/stats/{{}}?{MARCH}&page=/a"
    assert _items(tracker.get(page.format("browsers"))) == [
        ("Chrome", 2, 2),
        ("Firefox", 1, 1),
        ("Mobile Safari", 1, 1),
    ]
    assert _items(tracker.get(page.format("referrers"))) == [("news.example.net", 2, 2)]
    assert _items(tracker.get(page.format("countries"))) == [
        ("US", 2, 2),
        ("DE", 1, 1),
        ("NL", 1, 1),
    ]
    assert _items(tracker.get(page.format("campaigns"))) == []  # spring was /b's
    assert _items(tracker.get(page.format("pages"))) == [("/a", 4, 4)]
    assert _items(tracker.get(f"/stats/campaigns?{MARCH}&page=/b")) == [("spring", 1, 1)]
    assert _items(tracker.get(f"/stats/browsers?{MARCH}&page=/nowhere")) == []


def _assert_dimension_filter_narrows_the_pages(tracker: Tracker) -> None:
    us = tracker.get(f"/stats/pages?{MARCH}&country=US")
    assert _items(us) == [("/a", 2, 2), ("/b", 1, 1)]
    assert us.get_json()["basis"] == "utc-days"
    assert us.get_json()["total"] == 2
    assert us.get_json()["items"][0]["title"] == "Page a"
    assert _items(tracker.get(f"/stats/pages?{MARCH}&country=US&limit=1&offset=1")) == [
        ("/b", 1, 1)
    ]
    assert _items(tracker.get(f"/stats/pages?{MARCH}&browser=Chrome")) == [("/a", 2, 2)]
    # the table of the filter's own kind keeps its one value
    assert _items(tracker.get(f"/stats/countries?{MARCH}&country=US")) == [("US", 3, 2)]
    assert _items(tracker.get(f"/stats/pages?{MARCH}&country=FR")) == []


def _assert_page_and_dimension_filter_the_totals_together(tracker: Tracker) -> None:
    both = tracker.get(f"/stats?{MARCH}&page=/a&country=US").get_json()
    assert both["totals"] == {"pageviews": 2, "visitors": 2}
    assert [(p["period"], p["pageviews"]) for p in both["series"] if p["pageviews"]] == [
        ("2026-03-28", 1),
        ("2026-03-29", 1),
    ]
    assert tracker.get(f"/stats?{MARCH}&country=US").get_json()["totals"] == {
        "pageviews": 3,
        "visitors": 2,
    }
    assert _items(tracker.get(f"/stats/pages?{MARCH}&page=/a&country=DE")) == [("/a", 1, 1)]
    assert _items(tracker.get(f"/stats/countries?{MARCH}&page=/a&country=DE")) == [("DE", 1, 1)]


def test_should_narrow_the_dimension_tables_to_a_filtered_page(tracker: Tracker) -> None:
    _assert_page_filter_narrows_the_dimension_tables(tracker)


def test_should_narrow_the_pages_to_a_filtered_dimension_value(tracker: Tracker) -> None:
    _assert_dimension_filter_narrows_the_pages(tracker)


def test_should_count_a_page_and_a_dimension_filter_together(tracker: Tracker) -> None:
    _assert_page_and_dimension_filter_the_totals_together(tracker)


def test_should_cross_filter_alike_in_redis_mode(redis_tracker: Tracker) -> None:
    _assert_page_filter_narrows_the_dimension_tables(redis_tracker)
    _assert_dimension_filter_narrows_the_pages(redis_tracker)
    _assert_page_and_dimension_filter_the_totals_together(redis_tracker)


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("/stats?country=US&browser=Firefox", "browser, country at a time"),
        ("/stats?page=/a&os=iOS&device=mobile", "device, os at a time"),
        ("/stats/pages?referrer=news.example.net&campaign=spring", "campaign, referrer"),
        ("/stats/referrers?country=US", "referrers breakdown cannot follow the country"),
        ("/stats/campaigns?utm=source&campaign=spring", "cannot follow the campaign"),
    ],
)
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_should_refuse_filters_no_rollup_crosses_with_400(
    clean_database: str, make_app: Callable[..., Flask], path: str, words: str
) -> None:
    tracker = _tracker(make_app(DATABASE_URL=clean_database))
    answer = tracker.get(path)
    assert answer.status_code == 400
    body = answer.get_json()
    assert body["code"] == 400
    assert body["error_code"] in {40010, 40011}
    assert words in body["message"]
