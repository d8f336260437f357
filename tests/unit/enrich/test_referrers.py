"""Referrer normalisation: hosts, self-referrals, known sources, malformed values."""

import pytest

from page_tracker.enrich.referrers import referrer, source_name

SITE = {"example.com", "blog.example.org"}


@pytest.mark.parametrize(
    ("value", "host", "source"),
    [
        ("https://www.google.com/", "google.com", "Google"),
        ("https://www.google.co.uk/search?q=page+tracker", "google.co.uk", "Google"),
        ("https://www.google.de/", "google.de", "Google"),
        ("https://www.bing.com/search?q=x", "bing.com", "Bing"),
        ("https://cn.bing.com/search?q=x", "cn.bing.com", "Bing"),
        ("https://duckduckgo.com/", "duckduckgo.com", "DuckDuckGo"),
        ("https://www.baidu.com/link?url=abc", "baidu.com", "Baidu"),
        ("https://yandex.ru/search/?text=x", "yandex.ru", "Yandex"),
        ("https://yandex.com.tr/", "yandex.com.tr", "Yandex"),
        ("https://news.ycombinator.com/item?id=1", "news.ycombinator.com", "Hacker News"),
        ("https://old.reddit.com/r/python/", "old.reddit.com", "Reddit"),
        ("https://t.co/AbC123", "t.co", "Twitter"),
        ("https://x.com/someone/status/1", "x.com", "Twitter"),
        ("https://l.facebook.com/l.php?u=x", "l.facebook.com", "Facebook"),
        ("https://www.linkedin.com/feed/", "linkedin.com", "LinkedIn"),
        ("https://github.com/page-tracker/page-tracker", "github.com", "GitHub"),
        ("https://mail.google.com/mail/u/0/", "mail.google.com", "Gmail"),
        ("https://de.wikipedia.org/wiki/Z%C3%A4hler", "de.wikipedia.org", "Wikipedia"),
        (
            "android-app://com.google.android.googlequicksearchbox/",
            "com.google.android.googlequicksearchbox",
            "Google",
        ),
        ("https://user:secret@GitHub.com:443/x", "github.com", "GitHub"),
        ("https://WWW.Some-Blog.NET./post", "some-blog.net", None),
        ("someblog.net/post", "someblog.net", None),
        ("http://[2001:db8::1]:8080/", "2001:db8::1", None),
    ],
)
def test_should_normalise_the_host_and_name_known_sources(
    value: str, host: str, source: str | None
) -> None:
    assert referrer(value, SITE) == (host, source)


@pytest.mark.parametrize(
    "value",
    [
        "https://example.com/other-page",
        "https://www.example.com/",
        "http://EXAMPLE.COM./x",
        "https://blog.example.org/post",
    ],
)
def test_should_drop_self_referrals(value: str) -> None:
    assert referrer(value, SITE) == (None, None)


def test_should_drop_referrals_from_www_of_a_host_listed_with_www() -> None:
    assert referrer("https://example.net/", {"www.example.net"}) == (None, None)


def test_should_keep_referrals_from_other_subdomains_of_the_site() -> None:
    assert referrer("https://docs.example.com/", SITE) == ("docs.example.com", None)


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "   ",
        "http://[::1",  # unbalanced bracket: urlsplit raises
        "javascript:alert(1)",
        "about:blank",
        "file:///etc/passwd",
        "chrome-extension://abcdef/page.html",
        "not a url",
        "https://",
        "https:///path-only",
    ],
)
def test_should_ignore_missing_and_malformed_referrers(value: str | None) -> None:
    assert referrer(value, SITE) == (None, None)


@pytest.mark.parametrize(
    "host", ["google.evil.com", "evil-google.com", "googleusercontent.com", "notreddit.com"]
)
def test_should_not_name_lookalike_hosts(host: str) -> None:
    assert source_name(host) is None


@pytest.mark.parametrize(
    "value",
    [
        "http://exa\x00mple.com/",
        "http://exa mple.com/",
        "http://" + "a" * 300 + ".com/",
    ],
)
def test_should_refuse_hosts_that_are_not_host_names(value: str) -> None:
    assert referrer(value, SITE) == (None, None)


def test_should_keep_internationalised_host_names() -> None:
    assert referrer("https://b\u00fccher.de/", SITE) == ("b\u00fccher.de", None)
