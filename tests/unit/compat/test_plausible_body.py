"""Parsing what the official Plausible trackers send to ``POST /api/event``."""

import json
from typing import Any

import pytest

from page_tracker.compat.plausible import MAX_BODY_BYTES, parse_event
from page_tracker.errors import PayloadTooLarge, ValidationFailed


def body(**fields: Any) -> bytes:
    base: dict[str, Any] = {
        "n": "pageview",
        "u": "https://shop.example.com/products/1?utm_source=news",
        "d": "shop.example.com",
        "r": "https://news.ycombinator.com/",
        "w": 1280,
        "h": 0,
    }
    base.update(fields)
    return json.dumps({k: v for k, v in base.items() if v is not ...}).encode()


def test_should_parse_the_plausible_tracker_body() -> None:
    event = parse_event(body(p=json.dumps({"plan": "pro"})))
    assert event.name == "pageview"
    assert event.event is None
    assert event.url == "https://shop.example.com/products/1?utm_source=news"
    assert event.domains == ("shop.example.com",)
    assert event.host == "shop.example.com"
    assert event.path == "/products/1"
    assert event.referrer == "https://news.ycombinator.com/"
    assert event.width == 1280
    assert event.screen == "1280x1"
    assert event.props == {"plan": "pro"}


def test_should_accept_the_minimal_body_of_the_official_script() -> None:
    event = parse_event(b'{"n":"pageview","u":"http://a.test/","d":"a.test","r":null}')
    assert (event.referrer, event.width, event.screen, event.props) == (None, None, None, {})
    assert event.hash_mode is False


def test_should_split_and_normalise_several_domains() -> None:
    event = parse_event(body(d="Shop.Example.com, rollup.example.com,shop.example.com"))
    assert event.domains == ("shop.example.com", "rollup.example.com")


def test_should_keep_the_fragment_in_hash_mode() -> None:
    event = parse_event(body(u="https://app.example.com/#/settings/profile", h=1))
    assert event.path == "/#/settings/profile"
    assert parse_event(body(u="https://app.example.com/#/settings", h=0)).path == "/"


def test_should_name_custom_events() -> None:
    event = parse_event(body(n="Signup", p={"method": "email"}))
    assert event.event == "Signup"
    assert event.props == {"method": "email"}


def test_should_ignore_fields_it_does_not_know() -> None:
    assert parse_event(body(m='{"x":1}', i=True)).name == "pageview"


@pytest.mark.parametrize(
    ("raw", "error_code"),
    [
        (b"", 40001),
        (b"not json", 40001),
        (b"\xff\xfe", 40001),
        (b"[1, 2]", 40001),
        (b'"pageview"', 40001),
        (body(n=...), 40003),
        (body(u=...), 40003),
        (body(d=...), 40003),
        (body(n=""), 40003),
        (body(n="   "), 40003),
        (body(n=5), 40003),
        (body(u="/relative"), 40003),
        (body(u="javascript:alert(1)"), 40003),
        (body(u="https://"), 40003),
        (body(u="http://[::1/"), 40003),
        (body(d=""), 40003),
        (body(d="a.test,,b.test"), 40003),
        (body(d=",".join(f"s{i}.test" for i in range(11))), 40003),
        (body(w=-1), 40003),
        (body(w="wide"), 40003),
        (body(p="not json"), 40003),
        (body(p="[1]"), 40003),
        (body(p=[1]), 40003),
    ],
)
def test_should_refuse_invalid_bodies_with_a_400(raw: bytes, error_code: int) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_event(raw)
    assert caught.value.code == 400
    assert caught.value.instance_error_code == error_code


def test_should_refuse_an_oversized_body_with_a_413() -> None:
    with pytest.raises(PayloadTooLarge) as caught:
        parse_event(b"{" + b" " * MAX_BODY_BYTES + b"}")
    assert caught.value.to_dict()["code"] == 413


def test_should_name_the_invalid_field() -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_event(body(u="/relative"))
    assert caught.value.details == [
        {"field": "u", "message": "Value error, must be an absolute http(s) URL"}
    ]
