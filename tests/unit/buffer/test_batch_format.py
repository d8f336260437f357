"""Redis mode's batch format and schedule: views survive the round trip exactly."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from page_tracker.app import periodic_jobs
from page_tracker.buffer.batch_format import decode_views, encode_views
from page_tracker.buffer.redis_keys import RedisKeys, pending_counts
from page_tracker.buffer.redis_scripts import ingest_arguments
from page_tracker.celery_app import beat_schedule
from page_tracker.stats.pageview import PageView


def make_view(**overrides: object) -> PageView:
    values: dict[str, object] = {
        "site_id": "abcdefabcdef",
        "path": "/blog/ü?",
        "hostname": "example.com",
        "timestamp": datetime(2026, 11, 22, 21, 59, 58, 123456, tzinfo=UTC),
        "visitor": bytes(range(16)),
        "lifetime_visitor": bytes(range(16, 32)),
        "title": "Hello",
        "browser": "Chrome",
        "country": "DE",
    }
    values.update(overrides)
    return PageView(**values)  # type: ignore[arg-type]


def test_should_decode_exactly_what_was_encoded() -> None:
    views = [make_view(), make_view(path="/", event="signup", title=None, keep_raw=True)]

    assert decode_views(encode_views(views)) == views


def test_should_decode_batches_of_other_releases_by_field_name() -> None:
    data = json.loads(encode_views([make_view()]))
    data["f"].append("field_of_a_newer_release")
    data["r"][0].append(42)
    index = data["f"].index("title")
    del data["f"][index], data["r"][0][index]

    (view,) = decode_views(json.dumps(data))

    assert view.title is None  # missing: the default
    assert view.path == "/blog/ü?"


@pytest.mark.parametrize("payload", [b"[]", b'{"r": []}', b"not json"])
def test_should_refuse_what_is_not_a_batch(payload: bytes) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - json's errors are ValueErrors too
        decode_views(payload)


def test_should_count_pending_views_per_site_and_page() -> None:
    views = [make_view(), make_view(), make_view(path="/")]

    assert pending_counts(views) == {
        "s:abcdefabcdef": 3,
        "p:abcdefabcdef:/blog/ü?": 2,
        "p:abcdefabcdef:/": 1,
    }


def test_should_pass_each_visitor_key_once_with_its_distinct_members() -> None:
    keys = RedisKeys("pt:")
    views = [make_view(), make_view(), make_view(lifetime_visitor=b"x" * 16)]

    names, argv = ingest_arguments(keys, "b1", b"payload", views)

    assert names[:2] == ["pt:hits", "pt:pending"]
    assert len(names) == 4  # site key + one page key
    assert argv[:2] == ["b1", b"payload"]
    assert argv.count(b"x" * 16) == 2  # once per visitor key


def test_should_schedule_the_flush_every_two_seconds() -> None:
    schedule = beat_schedule(periodic_jobs())

    assert schedule["forget-flushed-batches"]["schedule"] == 3600.0
    assert schedule["flush-hits"] == {
        "task": "page_tracker.tracking.flush",
        "schedule": 2.0,
        "kwargs": {},
    }
