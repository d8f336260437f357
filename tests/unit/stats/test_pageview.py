"""The counted shape of a hit: a page view."""

from datetime import UTC, datetime

from page_tracker.stats.pageview import PageView


def test_should_round_trip_a_page_view_through_json_safe_dicts() -> None:
    view = PageView(
        site_id="abc",
        path="/p",
        hostname="example.com",
        timestamp=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        visitor=b"\x00" * 16,
        lifetime_visitor=b"\xff" * 16,
        browser="Firefox",
        keep_raw=True,
    )
    data = view.to_dict()
    assert isinstance(data["visitor"], str)
    assert PageView.from_dict({**data, "unknown_future_field": 1}) == view


def test_should_derive_hour_and_day_in_utc() -> None:
    view = PageView("s", "/", "h", datetime(2026, 1, 2, 23, 59, tzinfo=UTC), b"v", b"l")
    assert view.hour == datetime(2026, 1, 2, 23, 0)
    assert view.day.isoformat() == "2026-01-02"
