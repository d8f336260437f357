"""The one cleaning step of every hit (ingest.normalise): whatever a route accepts is
storable on every database and in Redis, and harmless on a terminal."""

from __future__ import annotations

import pytest

from page_tracker.ingest.hits import RawHit
from page_tracker.ingest.normalise import MAX_USER_AGENT, clean_text, normalise


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/a\x00b", "/ab"),
        ("t\x1b[31mred\x1b[0m", "t[31mred[0m"),
        ("tab\there\nnew", "tabherenew"),
        ("c1\x85\x9b", "c1"),
        ("lone\ud800", "lone\ufffd"),
        ("non\ufffe\uffff\ufdd0", "non\ufffd\ufffd\ufffd"),
        ("plane\U0001fffe\U0010ffff", "plane\ufffd\ufffd"),
        ("Grüße 中文 😀 /ok", "Grüße 中文 😀 /ok"),
    ],
)
def test_should_remove_controls_and_replace_unstorable_code_points(
    value: str, expected: str
) -> None:
    cleaned = clean_text(value)
    assert cleaned == expected
    cleaned.encode("utf-8")  # storable: encodes without error


def test_should_return_a_clean_hit_itself_and_clean_every_field_of_a_dirty_one() -> None:
    clean = RawHit(site_id="abc", url="https://example.com/", user_agent="UA", ip="192.0.2.1")
    assert normalise(clean) is clean

    dirty = RawHit(
        site_id="a\x00bc",
        url="https://example.com/\x00",
        user_agent="U\x00A" + "x" * 5000,
        ip="192.0.2.1",
        host="example.com\x00",
        path="/p\ud800",
        referrer="https://r.example/\x1b",
        title="T\x07",
        screen="1x1\x00",
        event="e\ufffe",
        visitor_token="tok\x00",
    )
    cleaned = normalise(dirty)
    assert cleaned.site_id == "abc"
    assert cleaned.url == "https://example.com/"
    assert cleaned.user_agent.startswith("UAxx")
    assert len(cleaned.user_agent) == MAX_USER_AGENT
    assert (cleaned.host, cleaned.path, cleaned.referrer) == (
        "example.com",
        "/p\ufffd",
        "https://r.example/",
    )
    assert (cleaned.title, cleaned.screen, cleaned.event, cleaned.visitor_token) == (
        "T",
        "1x1",
        "e\ufffd",
        "tok",
    )
