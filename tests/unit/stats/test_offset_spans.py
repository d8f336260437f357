"""The spans of one UTC offset that the zoned series are summed by in SQL
(:func:`page_tracker.stats.local_days.offset_spans`) put every hour in the span of its
own offset, in zones with DST, half-hour offsets and changes at local midnight."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from page_tracker.stats.local_days import offset_spans

HOUR = timedelta(hours=1)
ZONES = (
    "Europe/Berlin",
    "America/Santiago",  # falls back at local midnight
    "America/Havana",
    "Australia/Lord_Howe",  # a 30-minute DST change
    "Asia/Kolkata",  # +05:30, no DST
    "Asia/Tehran",
    "Pacific/Chatham",  # +12:45 / +13:45
    "America/St_Johns",
    "Africa/Casablanca",  # DST suspended each Ramadan: four changes a year
    "UTC",
)


def _offset(hour: datetime, zone: ZoneInfo) -> timedelta | None:
    return hour.replace(tzinfo=UTC).astimezone(zone).utcoffset()


@settings(max_examples=150, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    start=st.datetimes(datetime(2000, 1, 1), datetime(2099, 1, 1)),
    hours=st.integers(0, 24 * 400),
)
def test_should_give_every_hour_the_span_of_its_own_offset(
    zone: str, start: datetime, hours: int
) -> None:
    # Given a span of naive UTC time that need not start or end on the hour
    tz = ZoneInfo(zone)
    low, high = start, start + timedelta(hours=hours, minutes=start.minute % 7)
    # When it is cut into spans of one offset
    spans = offset_spans(low, high, tz)
    # Then the spans hold every hour starting in [low, high), in order, each once
    first = low.replace(minute=0, second=0, microsecond=0)
    first = first if first == low else first + HOUR
    expected = []
    hour = first
    while hour < high:
        expected.append(hour)
        hour += HOUR
    found = []
    for span_start, span_stop, minutes in spans:
        hour = span_start
        while hour < span_stop:
            # and each hour has the span's offset
            assert _offset(hour, tz) == timedelta(minutes=minutes)
            found.append(hour)
            hour += HOUR
    assert found == expected
    # and consecutive spans differ in offset (a change, not a needless cut)
    assert all(a[2] != b[2] for a, b in itertools.pairwise(spans))


def test_should_cut_a_berlin_year_at_its_two_changes() -> None:
    spans = offset_spans(
        datetime(2024, 12, 31, 23), datetime(2025, 12, 31, 23), ZoneInfo("Europe/Berlin")
    )
    assert spans == [
        (datetime(2024, 12, 31, 23), datetime(2025, 3, 30, 1), 60),
        (datetime(2025, 3, 30, 1), datetime(2025, 10, 26, 1), 120),
        (datetime(2025, 10, 26, 1), datetime(2025, 12, 31, 23), 60),
    ]


def test_should_give_nothing_for_a_span_without_an_hour_start() -> None:
    assert (
        offset_spans(datetime(2025, 1, 1, 10, 5), datetime(2025, 1, 1, 10, 55), ZoneInfo("UTC"))
        == []
    )
