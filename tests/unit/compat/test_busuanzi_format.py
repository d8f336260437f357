"""The Busuanzi wire format: callback names, referrers, the JSONP answer, visitor ids."""

import json
import re

import pytest

from page_tracker.compat import busuanzi


@pytest.mark.parametrize(
    "name",
    ["BusuanziCallback_123456789", "BusuanziCallback_1099511627775", "cb", "_x", "$jq1", "a" * 128],
)
def test_should_accept_javascript_identifiers_as_callbacks(name: str) -> None:
    assert busuanzi.is_valid_callback(name)


@pytest.mark.parametrize(
    "name",
    [
        None,
        "",
        "1abc",
        "alert(1)",
        "cb;alert(1)",
        "cb//",
        "a.b",
        "cb\n",
        "cb ",
        "Busuanzi-Callback",
        "<script>",
        "a" * 129,
        "function",
        "eval",
        "ВызовОбратно",  # non-ASCII identifiers are valid JS but never sent by Busuanzi
    ],
)
def test_should_refuse_anything_else_as_callback(name: str | None) -> None:
    assert not busuanzi.is_valid_callback(name)


def test_should_render_exactly_the_original_answer() -> None:
    body = busuanzi.render("BusuanziCallback_42", site_pv=10, site_uv=3, page_pv=7)
    assert body == (
        'try{BusuanziCallback_42({"site_uv":3,"page_pv":7,"version":2.4,"site_pv":10});}catch(e){}'
    )


def test_should_render_a_payload_that_is_valid_json() -> None:
    body = busuanzi.render("cb", site_pv=1, site_uv=1, page_pv=1)
    payload = re.fullmatch(r"try\{cb\((.*)\);\}catch\(e\)\{\}", body)
    assert payload is not None
    assert json.loads(payload[1]) == {"site_uv": 1, "page_pv": 1, "version": 2.4, "site_pv": 1}


@pytest.mark.parametrize(
    ("referer", "host", "path", "url"),
    [
        ("https://blog.example.com/2024/hello/", "blog.example.com", "/2024/hello/", None),
        (
            "http://Blog.Example.COM:8080/a?b=c#d",
            "blog.example.com",
            "/a",
            "http://Blog.Example.COM:8080/a?b=c",
        ),
        ("https://example.com", "example.com", "/", None),
        ("https://example.com.", "example.com", "/", None),
        ("https://user:pw@example.com/x", "example.com", "/x", None),
        ("https://example.com/%E4%B8%AD%E6%96%87/", "example.com", "/%E4%B8%AD%E6%96%87/", None),
        ("  https://example.com/p  ", "example.com", "/p", "https://example.com/p"),
    ],
)
def test_should_name_the_page_by_referer_host_and_path(
    referer: str, host: str, path: str, url: str | None
) -> None:
    page = busuanzi.parse_referer(referer)
    assert page is not None
    assert (page.host, page.path) == (host, path)
    assert page.key == host + path
    assert page.url == (url or referer.strip().split("#")[0])


@pytest.mark.parametrize(
    "referer",
    [
        None,
        "",
        "example.com/page",
        "/relative/path",
        "ftp://example.com/file",
        "javascript:alert(1)",
        "https:///no-host",
        "https://example.com:99999/",
        "https://example.com:port/",
        "http://[::1/",
        "https://example.com/" + "a" * 2048,
    ],
)
def test_should_name_no_page_for_missing_or_malformed_referers(referer: str | None) -> None:
    assert busuanzi.parse_referer(referer) is None


def test_should_keep_one_visitor_token_per_ip_and_user_agent() -> None:
    key = busuanzi.derive_key("secret")
    token = busuanzi.visitor_token(key, "203.0.113.7", "Mozilla/5.0")
    assert re.fullmatch(r"[0-9A-F]{32}", token)
    assert token == busuanzi.visitor_token(key, "203.0.113.7", "Mozilla/5.0")
    assert token != busuanzi.visitor_token(key, "203.0.113.8", "Mozilla/5.0")
    assert token != busuanzi.visitor_token(key, "203.0.113.7", "Mozilla/5.1")


def test_should_not_reveal_the_ip_without_the_secret_key() -> None:
    args = ("203.0.113.7", "Mozilla/5.0")
    assert busuanzi.visitor_token(busuanzi.derive_key("one"), *args) != busuanzi.visitor_token(
        busuanzi.derive_key("two"), *args
    )


@pytest.mark.parametrize(
    ("cookie", "expected"),
    [
        ("89D15D1F66D2494F91FB315545BF9C2A", "89D15D1F66D2494F91FB315545BF9C2A"),
        ("abc_DEF-0123456789", "abc_DEF-0123456789"),
        (None, None),
        ("", None),
        ("short", None),
        ("x" * 65, None),
        ("89D15D1F66D2494F 91FB315545BF9C2A", None),
        ("89D15D1F66D2494F;91FB315545BF9C2A", None),
    ],
)
def test_should_trust_only_well_formed_cookies(cookie: str | None, expected: str | None) -> None:
    assert busuanzi.cookie_token(cookie) == expected


@pytest.mark.parametrize(
    ("host", "patterns", "expected"),
    [
        ("blog.example.com", ["*.example.com"], True),
        ("BLOG.Example.com", ["*.EXAMPLE.com"], True),
        ("example.com", ["*.example.com"], False),
        ("example.com", ["*.example.com", " example.com "], True),
        ("evil-example.com", ["*.example.com"], False),
        ("anything.test", ["*"], True),
        ("blog.example.org", [], False),
    ],
)
def test_should_match_auto_create_host_patterns(
    host: str, patterns: list[str], expected: bool
) -> None:
    assert busuanzi.host_matches(host, patterns) is expected


def test_should_drop_an_over_long_query_before_judging_the_length() -> None:
    from page_tracker.compat.busuanzi import MAX_URL_LENGTH, parse_referer  # noqa: PLC0415
    from page_tracker.ingest.verdict import MAX_URL_LENGTH as HIT_PATH_LIMIT  # noqa: PLC0415

    assert MAX_URL_LENGTH == HIT_PATH_LIMIT
    page = parse_referer("https://blog.example/a?q=" + "x" * 5000 + "#top")
    assert page is not None
    assert page.url == "https://blog.example/a"
    short = parse_referer("https://blog.example/a?utm_source=feed#top")
    assert short is not None
    assert short.url == "https://blog.example/a?utm_source=feed"
    assert parse_referer("https://blog.example/" + "p" * 2100) is None  # the path itself
