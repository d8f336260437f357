from datetime import UTC, datetime

import pytest

from page_tracker.errors import ValidationFailed
from page_tracker.sites.services import new_site_id, normalise_host
from page_tracker.tracking.hits import PageView


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


@pytest.mark.parametrize(
    ("given", "expected"),
    [("Example.COM", "example.com"), ("example.com.", "example.com"), ("a.b:8080", "a.b")],
)
def test_should_normalise_host_names(given: str, expected: str) -> None:
    assert normalise_host(given) == expected


@pytest.mark.parametrize("given", ["", "bad host", "-a.com", "[::1]", "a" * 300, "x..y"])
def test_should_refuse_invalid_host_names(given: str) -> None:
    with pytest.raises(ValidationFailed):
        normalise_host(given)


def test_should_make_random_twelve_character_site_ids() -> None:
    ids = {new_site_id() for _ in range(50)}
    assert len(ids) == 50
    assert all((len(i) == 12 and i.isalnum() and i.islower()) or i.isdigit() for i in ids)
