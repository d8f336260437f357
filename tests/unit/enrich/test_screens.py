"""Screen size classes."""

import pytest

from page_tracker.enrich.screens import screen_class


@pytest.mark.parametrize(
    ("screen", "expected"),
    [
        ("390x844", "phone"),
        ("599x900", "phone"),
        ("600x960", "tablet"),
        ("768\u00d71024", "tablet"),
        ("1023x768", "tablet"),
        ("1024x768", "laptop"),
        ("1366X768", "laptop"),
        ("1440x900", "desktop"),
        ("1920*1080", "desktop"),
        (" 1920 x 1080 ", "desktop"),
        ("2560x1440", "large"),
        ("3840x2160", "large"),
    ],
)
def test_should_classify_screens_by_width(screen: str, expected: str) -> None:
    assert screen_class(screen) == expected


@pytest.mark.parametrize(
    "screen", [None, "", "1920", "x1080", "1920x", "0x1080", "1920x0", "-1x5", "axb", "1.5x2"]
)
def test_should_give_no_class_for_malformed_screens(screen: str | None) -> None:
    assert screen_class(screen) is None
