"""The counted shape of a hit: a page view and the enrichment it carries."""

from datetime import UTC, datetime

from page_tracker.enrich import Enrichment
from page_tracker.stats.pageview import PageView


def test_should_derive_hour_and_day_in_utc() -> None:
    view = PageView("s", "/", "h", datetime(2026, 1, 2, 23, 59, tzinfo=UTC), b"v", b"l")
    assert view.hour == datetime(2026, 1, 2, 23, 0)
    assert view.day.isoformat() == "2026-01-02"


def test_should_know_nothing_of_a_view_built_without_enrichment() -> None:
    view = PageView("s", "/", "h", datetime(2026, 1, 2, tzinfo=UTC), b"v", b"l")
    assert view.enrichment == Enrichment()
    assert (view.enrichment.browser, view.enrichment.device) == ("Other", "other")
    assert not view.enrichment.is_bot
