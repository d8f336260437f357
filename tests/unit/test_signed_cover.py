"""A span read as whole UTC years plus and minus pieces (``signed_cover``) counts every
hour of the span once and no other hour, and takes only whole days or months out of a
year (a day is the sum of its hours only for counted views: imported day-only history
has no hours)."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta

from hypothesis import given
from hypothesis import strategies as st

from page_tracker.stats.cover import DAY, HOUR, Cover, cover, signed_cover

FIRST = datetime(2024, 6, 1)


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _hours(pieces: Cover) -> Counter[datetime]:
    found: Counter[datetime] = Counter()
    for first, last in pieces.months:
        stop = date(last.year + last.month // 12, last.month % 12 + 1, 1) - DAY
        for day in _days(first, stop):
            found.update(datetime.combine(day, time()) + HOUR * h for h in range(24))
    for first, last in pieces.days:
        for day in _days(first, last):
            found.update(datetime.combine(day, time()) + HOUR * h for h in range(24))
    for low, high in pieces.hours:
        found.update(low + HOUR * h for h in range(int((high - low) / HOUR)))
    return found


@given(start=st.integers(0, 700 * 24), hours=st.integers(1, 800 * 24))
def test_should_count_each_hour_of_the_span_once(start: int, hours: int) -> None:
    # Given a span of whole hours over up to three UTC years
    low = FIRST + timedelta(hours=start)
    high = low + timedelta(hours=hours)
    # When it is read as years plus and minus pieces
    signed = signed_cover(low, high)
    counted = _hours(signed.plus)
    for year in signed.years:
        counted.update(_hours(Cover(months=[(date(year, 1, 1), date(year, 12, 1))])))
    counted.subtract(_hours(signed.minus))
    # Then every hour of the span counts once, no other hour at all
    assert +counted == _hours(cover(low, high))
    assert -counted == Counter()
    # and a year loses only whole days or months
    assert signed.minus.hours == []


def test_should_read_365_days_with_mid_month_edges_as_a_year_and_two_half_months() -> None:
    signed = signed_cover(datetime(2025, 1, 16), datetime(2026, 1, 16))
    assert signed.years == [2025]
    assert signed.minus == Cover(days=[(date(2025, 1, 1), date(2025, 1, 15))])
    assert signed.plus == Cover(days=[(date(2026, 1, 1), date(2026, 1, 15))])


def test_should_read_a_short_span_as_its_own_pieces() -> None:
    signed = signed_cover(datetime(2025, 11, 15), datetime(2025, 12, 15))
    assert signed.years == []
    assert signed.plus == cover(datetime(2025, 11, 15), datetime(2025, 12, 15))
