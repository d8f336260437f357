"""UTM campaign fields from the page URL."""

import pytest

from page_tracker.enrich.campaigns import MAX_LENGTH, Campaign, campaign


def test_should_read_all_five_utm_fields() -> None:
    url = (
        "https://example.com/post?utm_source=newsletter&utm_medium=email"
        "&utm_campaign=launch%202026&utm_term=page+tracker&utm_content=header-link"
    )

    assert campaign(url) == Campaign(
        source="newsletter",
        medium="email",
        name="launch 2026",
        term="page tracker",
        content="header-link",
    )


@pytest.mark.parametrize(
    ("query", "source"),
    [
        ("ref=producthunt", "producthunt"),
        ("source=mastodon", "mastodon"),
        ("ref=a&source=b", "a"),
        ("utm_source=x&ref=y&source=z", "x"),
        ("utm_source=&ref=y", "y"),
        ("utm_source=%20%20&source=z", "z"),
    ],
)
def test_should_fall_back_to_ref_then_source(query: str, source: str) -> None:
    assert campaign(f"https://example.com/?{query}").source == source


def test_should_take_the_first_non_blank_value_of_a_repeated_parameter() -> None:
    assert campaign("https://e.com/?utm_medium=&utm_medium=+social+&utm_medium=x").medium == (
        "social"
    )


def test_should_cut_overlong_values() -> None:
    value = campaign("https://e.com/?utm_campaign=" + "a" * 5000).name

    assert value == "a" * MAX_LENGTH


@pytest.mark.parametrize(
    "url",
    [
        "",
        "https://example.com/post",
        "https://example.com/post?",
        "https://example.com/post?q=1&page=2",
        "https://example.com/#utm_source=fragment-is-not-query",
        "http://[::1?utm_source=x",  # cannot be parsed
    ],
)
def test_should_find_no_campaign_when_there_is_none(url: str) -> None:
    assert campaign(url) == Campaign()


def test_should_replace_lone_surrogates_so_values_can_be_stored() -> None:
    value = campaign("https://e.com/?utm_source=a\ud800b").source

    assert value == "a?b"
