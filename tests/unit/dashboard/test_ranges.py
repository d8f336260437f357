"""The site page's range, filter, table and sparkline choices, without a database."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from page_tracker.dashboard import filters, ranges, sparkline, tables
from page_tracker.errors import Unprocessable
from page_tracker.stats.ranges import Interval

# 23:30 UTC on 31 December 2026 is already 2027 in Tokyo.
NEW_YEARS_EVE = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "tz", "start", "end", "interval"),
    [
        ("today", "UTC", date(2026, 12, 31), date(2026, 12, 31), Interval.HOUR),
        ("today", "Asia/Tokyo", date(2027, 1, 1), date(2027, 1, 1), Interval.HOUR),
        ("7d", "UTC", date(2026, 12, 25), date(2026, 12, 31), Interval.DAY),
        ("30d", "UTC", date(2026, 12, 2), date(2026, 12, 31), Interval.DAY),
        ("month", "UTC", date(2026, 12, 1), date(2026, 12, 31), Interval.DAY),
        ("month", "Asia/Tokyo", date(2027, 1, 1), date(2027, 1, 1), Interval.HOUR),
        ("year", "UTC", date(2026, 1, 1), date(2026, 12, 31), Interval.MONTH),
        ("year", "America/New_York", date(2026, 1, 1), date(2026, 12, 31), Interval.MONTH),
    ],
)
def test_should_place_each_preset_in_the_zones_today(
    name: str, tz: str, start: date, end: date, interval: Interval
) -> None:
    chosen = ranges.choose({"range": name, "tz": tz}, now=NEW_YEARS_EVE)
    assert (chosen.start, chosen.end, chosen.interval) == (start, end, interval)
    assert not chosen.interval_given


def test_should_default_to_30_days_in_utc_and_let_the_url_choose_the_step() -> None:
    chosen = ranges.choose({}, now=NEW_YEARS_EVE)
    assert (chosen.name, chosen.tz, chosen.days) == ("30d", "UTC", 30)
    monthly = ranges.choose({"interval": "month"}, now=NEW_YEARS_EVE)
    assert monthly.interval is Interval.MONTH
    assert monthly.interval_given
    automatic = ranges.choose({"interval": ""}, now=NEW_YEARS_EVE)
    assert automatic.interval is Interval.DAY
    assert not automatic.interval_given


@given(st.dates(date(2000, 1, 1), date(2100, 1, 1)), st.integers(0, 4000))
def test_should_suggest_hours_for_a_day_days_for_a_quarter_months_beyond(
    start: date, extra: int
) -> None:
    end = date.fromordinal(start.toordinal() + extra)
    suggested = ranges.suggested_interval(start, end)
    if extra == 0:
        assert suggested is Interval.HOUR
    elif extra < ranges.MAX_DAILY_DAYS:
        assert suggested is Interval.DAY
    else:
        assert suggested is Interval.MONTH


@given(st.text(max_size=40))
def test_should_accept_only_known_zones(tz: str) -> None:
    try:
        chosen = ranges.choose({"tz": tz}, now=NEW_YEARS_EVE)
    except Unprocessable:
        return
    assert chosen.tz == tz


@given(st.sampled_from(filters.NAMES), st.text(max_size=600))
def test_should_accept_a_filter_only_without_control_characters(name: str, value: str) -> None:
    try:
        chosen = filters.choose({name: value})
    except Unprocessable:
        return
    assert [found.value for found in chosen.chosen] == [value]
    assert not any(ord(c) < 32 or ord(c) == 127 or 0xD800 <= ord(c) <= 0xDFFF for c in value)


def test_should_refuse_two_dimension_filters_and_count_dimensions_in_utc_days() -> None:
    with pytest.raises(filters.TooMany, match="one of country, browser at a time") as refused:
        filters.choose({"country": "DE", "browser": "Firefox"})
    assert refused.value.names == ["country", "browser"]
    assert not filters.choose({})
    page = filters.choose({"page": "/a"})
    browser = filters.choose({"browser": "Firefox"})
    assert page
    assert not page.by_utc_days
    assert browser.by_utc_days
    assert browser.to_report().kind == "browser"
    both = filters.choose({"page": "/a", "browser": "Firefox"})
    assert [found.name for found in both.chosen] == ["page", "browser"]
    assert both.by_utc_days
    assert both.has("page", "/a")
    assert both.has("browser", "Firefox")
    assert not both.has("browser", "Chrome")
    wanted = both.to_report()
    assert (wanted.page, wanted.kind, wanted.value) == ("/a", "browser", "Firefox")


@pytest.mark.parametrize(
    ("code", "flag"), [("DE", "🇩🇪"), ("jp", "🇯🇵"), ("", ""), ("XYZ", ""), ("1A", ""), ("ÄB", "")]
)
def test_should_spell_a_flag_from_regional_indicators(code: str, flag: str) -> None:
    assert tables.flag(code) == flag


@pytest.mark.parametrize("given_offset", ["-1", "1.5", "\u00b2", "\u0661", "99999999", ""])
def test_should_refuse_an_offset_that_is_not_a_small_whole_number(given_offset: str) -> None:
    with pytest.raises(Unprocessable, match="pages_offset"):
        tables.offset_of({"pages_offset": given_offset}, "pages")


def test_should_draw_the_largest_value_at_the_top_and_zero_at_the_bottom() -> None:
    points = [tuple(map(float, p.split(","))) for p in sparkline.points([0, 5, 10]).split()]
    assert points == [(0, 26), (60, 14), (120, 2)]
    assert sparkline.points([]) == ""
    assert sparkline.points([0, 0]) == "0,26 120,26"
