"""FirstMatch: ordered rule lists on the Rust regex engine."""

import logging

import pytest

from page_tracker.enrich import matchers
from page_tracker.enrich.matchers import FirstMatch


def test_should_return_the_label_of_the_first_matching_rule() -> None:
    rules = FirstMatch([(r"bot", "first"), (r"google", "second")])

    assert rules("googlebot") == "first"
    assert rules("google") == "second"
    assert rules("nothing here") is None


def test_should_substitute_the_first_group_into_the_label() -> None:
    rules = FirstMatch([(r"^(curl|wget)/", "client:$1")], ignore_case=True)

    assert rules("Wget/1.21") == "client:Wget"
    assert rules("my curl/8") is None


def test_should_respect_case_unless_told_otherwise() -> None:
    assert FirstMatch([(r"Headless", "x")])("headless") is None
    assert FirstMatch([(r"Headless", "x")], ignore_case=True)("HEADLESS") == "x"


def test_should_match_patterns_rust_cannot_compile_with_python_re(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Other tests run dictConfig, which can disable existing loggers or raise their level.
    monkeypatch.setattr(logging.getLogger(matchers.__name__), "disabled", False)
    with caplog.at_level(logging.WARNING, logger=matchers.__name__):
        # Look-ahead is not in Rust's regex dialect.
        rules = FirstMatch([(r"^(bot)(?=/)", "lookahead:$1"), (r"crawler", "plain")])

    assert rules("bot/1.0") == "lookahead:bot"
    assert rules("bot 1.0") is None
    assert rules("a crawler") == "plain"
    assert "need Python's re" in caplog.text
