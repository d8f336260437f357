"""The stats answers' JSON rendered once per cached report (``api.rendered``): the same
bytes as ``model_dump_json``, never another report's or another query's."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from page_tracker.api import stats_schemas as schemas
from page_tracker.api.rendered import Rendered
from page_tracker.stats.report import Point, Summary, Totals


def _summary(views: int = 5) -> Summary:
    points = [
        Point(f"2026-01-{d:02}", datetime(2026, 1, d, tzinfo=UTC), views + d, d)
        for d in range(1, 31)
    ]
    return Summary(Totals(views, 2), Totals(1, 1), points)


def _derive(found: Summary) -> dict[str, Any]:
    return {
        "totals": found.totals,
        "previous": found.previous,
        "change": {"pageviews": 1.5, "visitors": None},
        "series": found.series,
    }


HEAD = {"site": "abc", "start": date(2026, 1, 1), "end": date(2026, 1, 30), "tz": "UTC",
        "interval": "day"}  # fmt: skip


def _fresh(waiting: int | None, hour: datetime | None = None) -> schemas.Freshness:
    return schemas.Freshness(unflushed_pageviews=waiting, last_counted_hour=hour)


def _whole(found: Summary, fresh: schemas.Freshness, head: dict[str, Any] = HEAD) -> str:
    full = {**head, **_derive(found), "freshness": fresh.model_dump()}
    return schemas.StatsOut.model_validate(full, from_attributes=True).model_dump_json()


def test_the_same_bytes_as_the_whole_model_with_each_requests_freshness() -> None:
    rendered, found = Rendered(), _summary()
    hour = datetime(2026, 1, 30, 23, tzinfo=UTC)
    for fresh in (_fresh(0, hour), _fresh(7, hour), _fresh(None), _fresh(0, hour)):
        text = rendered.json(schemas.StatsOut, HEAD, found, _derive, fresh)
        assert text == _whole(found, fresh)
    assert len(rendered) == 1


def test_a_new_report_object_or_another_head_is_rendered_anew() -> None:
    rendered, first, fresh = Rendered(), _summary(5), _fresh(0)
    rendered.json(schemas.StatsOut, HEAD, first, _derive, fresh)
    second = _summary(9)  # what the cache holds after a write
    assert rendered.json(schemas.StatsOut, HEAD, second, _derive, fresh) == _whole(second, fresh)
    other = {**HEAD, "tz": "Europe/Berlin"}
    text = rendered.json(schemas.StatsOut, other, second, _derive, fresh)
    assert text == _whole(second, fresh, other)
    assert '"tz":"Europe/Berlin"' in text


def test_an_entry_is_never_used_for_another_object_of_the_same_id() -> None:
    rendered, fresh = Rendered(), _fresh(0)
    first = _summary(5)
    rendered.json(schemas.StatsOut, HEAD, first, _derive, fresh)
    key = next(iter(rendered._kept))  # planting a stale entry by hand
    rendered._kept[key] = (object(), '{"site":"stale"}')
    assert rendered.json(schemas.StatsOut, HEAD, first, _derive, fresh) == _whole(first, fresh)


def test_bounded_in_entries_and_in_size() -> None:
    rendered, fresh = Rendered(entries=2, max_chars=10_000), _fresh(0)
    kept = [_summary(n) for n in range(3)]
    for found in kept:
        rendered.json(schemas.StatsOut, HEAD, found, _derive, fresh)
    assert len(rendered) == 2
    tiny = Rendered(max_chars=100)
    found = _summary()
    assert tiny.json(schemas.StatsOut, HEAD, found, _derive, fresh) == _whole(found, fresh)
    assert len(tiny) == 0
