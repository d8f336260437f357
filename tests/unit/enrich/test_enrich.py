"""enrich(): the shared interface the ingest path calls."""

import dataclasses
import random

import pytest

from page_tracker.enrich import Enrichment, enrich, warm_up

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
)


def test_should_enrich_a_browser_hit_with_every_field() -> None:
    result = enrich(
        user_agent=IPHONE,
        ip="8.8.8.8",
        referrer="https://news.ycombinator.com/item?id=42",
        page_url="https://example.com/post?utm_source=hn&utm_medium=social&utm_campaign=launch",
        screen="390x844",
        site_hosts={"example.com"},
    )

    assert result == Enrichment(
        bot_reason=None,
        browser="Mobile Safari",
        browser_version="18",
        os="iOS",
        os_version="18.1",
        device="mobile",
        referrer_host="news.ycombinator.com",
        referrer_source="Hacker News",
        utm_source="hn",
        utm_medium="social",
        utm_campaign="launch",
        utm_term=None,
        utm_content=None,
        country="US",
        screen_class="phone",
    )


def test_should_mark_bots_and_still_fill_the_other_fields() -> None:
    result = enrich("curl/8.4.0", "10.0.0.1", None, "https://example.com/", None, set())

    assert result.is_bot
    assert result.bot_reason == "http-client:curl"
    assert result.device == "bot"
    assert result.country is None
    assert result.referrer_host is None
    assert result.screen_class is None


def test_should_drop_self_referrals_using_the_site_hosts() -> None:
    result = enrich(
        IPHONE,
        "::1",
        "https://www.example.com/previous",
        "https://example.com/next",
        None,
        {"example.com"},
    )

    assert (result.referrer_host, result.referrer_source) == (None, None)


def test_should_survive_garbage_in_every_argument() -> None:
    result = enrich("\x00\ufffd", "nonsense", "http://[::1", "::::", "NaNxNaN", {"example.com"})

    assert result.is_bot
    assert result.country is None
    assert result.referrer_host is None
    assert result.utm_source is None
    assert result.screen_class is None


def test_should_be_immutable() -> None:
    result = enrich(IPHONE, "8.8.8.8", None, "https://example.com/", None, set())

    with pytest.raises(dataclasses.FrozenInstanceError):
        result.country = "FR"  # type: ignore[misc]


def test_should_warm_up_repeatedly_and_then_enrich_as_before() -> None:
    warm_up()
    warm_up()

    result = enrich(IPHONE, "8.8.8.8", None, "https://example.com/", "390x844", set())

    assert (result.browser, result.device, result.country) == ("Mobile Safari", "mobile", "US")


def test_should_never_raise_on_random_input() -> None:
    # Deterministic fuzzing: fragments of URLs, addresses and headers glued at random.
    pieces = [
        "http://", "https://", "android-app://", "[", "]", "::", ":", "/", "?", "&", "=",
        "#", "%", "%zz", "@", "\\", " ", "\t", "\x00", "\ud800", "\u00e9", "\U0001f600",
        "utm_source", "ref", "www.", "example.com", "google", ".co.uk", "8.8.8.8", "::1",
        "ffff", "1920", "x", "\u00d7", "Mozilla/5.0", "(", ")", ";", "bot", "Headless",
    ]  # fmt: skip
    rng = random.Random(20261122)

    def garbage() -> str:
        return "".join(rng.choice(pieces) for _ in range(rng.randrange(0, 12)))

    for _ in range(2000):
        result = enrich(garbage(), garbage(), garbage(), garbage(), garbage(), {garbage()})

        assert isinstance(result, Enrichment)
        assert result.device in {"desktop", "mobile", "tablet", "bot", "other"}
        for value in dataclasses.astuple(result):
            if isinstance(value, str):
                value.encode("utf-8")  # storable: no lone surrogates
