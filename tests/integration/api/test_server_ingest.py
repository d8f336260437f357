"""Server-side ingest (``POST /api/v1/sites/{id}/hits``) on SQLite, MariaDB, PostgreSQL and
in Redis mode: a backend's hits are judged and counted exactly as browsers' hits are,
each with its own verdict, and only by a write token of someone who may change the site."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select, update

from page_tracker.auth.models import ApiToken
from page_tracker.auth.tokens import Scope, issue_token, revoke_token
from page_tracker.buffer.tasks import flush
from page_tracker.db import Base, get_session
from page_tracker.redis_client import REDIS
from page_tracker.settings import SETTINGS
from page_tracker.sites.services import create_site
from page_tracker.stats.models import SITE, Total
from page_tracker.users.memberships import set_member
from page_tracker.users.models import MemberRole, Role
from page_tracker.users.services import create_user

CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"
PASSWORD = "correct horse"


@dataclass
class World:
    app: Flask
    client: FlaskClient
    site: str
    other_site: str  # a site the owner is no member of
    tokens: dict[str, str]  # write, read, viewer, stranger, revoked, expired
    token_ids: dict[str, int]

    def post(self, body: Any, caller: str = "write", site: str | None = None) -> Any:
        return self.client.post(
            f"/api/v1/sites/{site or self.site}/hits",
            json=body,
            headers={"Authorization": f"Bearer {self.tokens[caller]}"},
        )

    def counted(self) -> tuple[int, int]:
        """Today's (pageviews, visitors) of the site, from the stats API after a flush."""
        flush(self.app)
        today = datetime.now(UTC).date().isoformat()
        answer = self.client.get(
            f"/api/v1/sites/{self.site}/stats?from={today}&to={today}",
            headers={"Authorization": f"Bearer {self.tokens['read']}"},
        )
        assert answer.status_code == 200, answer.get_data(as_text=True)
        totals = answer.get_json()["totals"]
        return totals["pageviews"], totals["visitors"]


def build_world(app: Flask) -> World:
    with app.app_context():
        session = get_session()
        accounts = {
            name: create_user(session, f"{name}@example.com", PASSWORD, role=Role.USER)
            for name in ("owner", "viewer", "stranger")
        }
        site = create_site(session, "example.com", hosts=["www.example.com"])
        other = create_site(session, "other.example")
        set_member(session, site.id, accounts["owner"], MemberRole.OWNER)
        set_member(session, site.id, accounts["viewer"], MemberRole.VIEWER)
        set_member(session, other.id, accounts["stranger"], MemberRole.OWNER)
        read_write = (Scope.READ, Scope.WRITE)
        grants = {
            "write": ("owner", read_write),
            "read": ("owner", (Scope.READ,)),
            "viewer": ("viewer", read_write),
            "stranger": ("stranger", read_write),
            "revoked": ("owner", read_write),
            "expired": ("owner", read_write),
        }
        tokens: dict[str, str] = {}
        ids: dict[str, int] = {}
        for name, (account, scopes) in grants.items():
            token, clear = issue_token(
                session, accounts[account], scopes, expires_in=timedelta(days=1)
            )
            tokens[name], ids[name] = clear, token.id
        session.flush()
        session.execute(
            update(ApiToken)
            .where(ApiToken.id == ids["expired"])
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        revoke_token(session, accounts["owner"], ids["revoked"])
        session.commit()
        return World(app, app.test_client(), site.id, other.id, tokens, ids)


@pytest.fixture
def embedded(clean_database: str, make_app: Callable[..., Flask]) -> World:
    return build_world(make_app(DATABASE_URL=clean_database))


@pytest.fixture(params=["embedded", "redis"])
def world(
    request: pytest.FixtureRequest, clean_database: str, make_app: Callable[..., Flask]
) -> Iterator[World]:
    """The same world in embedded mode and in Redis mode, on each database."""
    if request.param == "embedded":
        yield build_world(make_app(DATABASE_URL=clean_database))
        return
    redis_url: str = request.getfixturevalue("redis_url")
    prefix: str = request.getfixturevalue("redis_prefix")
    yield build_world(
        make_app(DATABASE_URL=clean_database, REDIS_URL=redis_url, REDIS_KEY_PREFIX=prefix)
    )
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(f"{prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()


def hit(number: int = 0, **fields: Any) -> dict[str, Any]:
    """A good hit of reader ``number`` (its address and browser)."""
    return {
        "url": f"https://example.com/p{number % 7}",
        "ip": f"198.51.{number // 250}.{number % 250}",
        "user_agent": CHROME if number % 2 else FIREFOX,
        **fields,
    }


def reasons(answer: Any) -> list[str]:
    return [verdict["reason"] for verdict in answer.get_json()["verdicts"]]


def assert_stored_nowhere(app: Flask, *needles: str) -> None:
    """No table row (and in Redis mode no key or value of ours) holds any of ``needles``."""
    with app.app_context():
        session = get_session()
        for table in Base.metadata.sorted_tables:
            for row in session.execute(select(table)).all():
                text = repr(tuple(row))
                for needle in needles:
                    assert needle not in text, f"{needle!r} stored in {table.name}"
    client: redis.Redis | None = REDIS.find(app)
    if client is None:
        return
    prefix = SETTINGS.get(app).redis_key_prefix
    for key in client.scan_iter(f"{prefix}*"):
        kind = client.type(key)
        if kind == b"stream":
            dump = repr(client.xrange(key))
        elif kind == b"hash":
            dump = repr(client.hgetall(key))
        elif kind == b"string":
            dump = repr(client.get(key))
        else:
            dump = ""
        for needle in needles:
            assert needle.encode() not in key, f"{needle!r} in {key!r}"
            assert needle not in dump, f"{needle!r} in {key!r}"


def test_should_count_a_batch_of_1000_hits_exactly_and_store_no_address(world: World) -> None:
    # Given 1 000 hits of 500 readers (each reader twice, in one batch)
    batch = [hit(n % 500) for n in range(1000)]
    # When the backend sends them in one request
    answer = world.post({"hits": batch})
    # Then each is accepted, and counted once: 1 000 views of 500 visitors
    assert answer.status_code == 202, answer.get_data(as_text=True)
    body = answer.get_json()
    assert (body["accepted"], body["rejected"]) == (1000, 0)
    assert reasons(answer) == ["accepted"] * 1000
    assert world.counted() == (1000, 500)
    # and no reader's address or User-Agent is kept anywhere
    assert_stored_nowhere(world.app, "198.51.1.7", "198.51.0.249", "Chrome/120.0.0.0", "rv:121.0")


def test_should_refuse_1001_hits_and_count_none(world: World) -> None:
    answer = world.post({"hits": [hit(n) for n in range(1001)]})
    assert answer.status_code == 413
    assert answer.get_json()["details"] == {"max_hits": 1000}
    assert world.counted() == (0, 0)


def test_should_judge_each_hit_of_a_mixed_batch_on_its_own(world: World) -> None:
    now = datetime.now(UTC)
    batch = [
        hit(1),
        hit(2, user_agent="Googlebot/2.1 (+http://www.google.com/bot.html)"),
        hit(3, url="https://evil.example.net/"),
        hit(4, url="javascript:alert(1)"),
        hit(5, ip="not an address"),
        hit(6, timestamp=(now + timedelta(hours=1)).isoformat()),
        hit(7, timestamp=(now - timedelta(days=2)).isoformat()),
        hit(8, dnt=True),
        hit(9, event=""),
        hit(10, timestamp=(now - timedelta(seconds=1)).isoformat(), url="https://www.example.com/"),
        hit(11, timestamp=(now + timedelta(minutes=1)).isoformat()),  # within the clock skew
        hit(12, referrer="https://news.ycombinator.com/", title="Post", screen="390x844"),
    ]
    answer = world.post({"hits": batch})
    assert answer.status_code == 202
    assert reasons(answer) == [
        "accepted",
        "bot",
        "host-not-allowed",
        "malformed",
        "malformed",
        "timestamp-in-future",
        "timestamp-too-old",
        "dnt",
        "malformed",
        "accepted",
        "accepted",
        "accepted",
    ]
    verdicts = answer.get_json()["verdicts"]
    assert "ip" in verdicts[4]["detail"]
    assert "today" in verdicts[6]["detail"]
    assert answer.get_json()["accepted"] == 4
    assert world.counted() == (4, 4)


def test_should_clean_nul_control_characters_and_lone_surrogates(world: World) -> None:
    raw = json.dumps(
        {
            "hits": [
                hit(1, url="https://example.com/a\u0000b\u001b[31m", title="x\ud800y\u0000"),
                hit(2, user_agent=CHROME + "\u0000\udfff", referrer="https://r.example/\ud83d"),
            ]
        }
    )  # json.dumps escapes the lone surrogates as \ud800: valid JSON, no valid UTF-8
    answer = world.client.post(
        f"/api/v1/sites/{world.site}/hits",
        data=raw,
        content_type="application/json",
        headers={"Authorization": f"Bearer {world.tokens['write']}"},
    )
    assert answer.status_code == 202, answer.get_data(as_text=True)
    assert reasons(answer) == ["accepted", "accepted"]
    assert world.counted() == (2, 2)


def test_should_count_a_reader_once_a_day_whichever_way_the_hits_came(world: World) -> None:
    # Given a reader's two hits sent by the backend today
    reader = {"ip": "203.0.113.9", "user_agent": CHROME}
    earlier = (datetime.now(UTC) - timedelta(seconds=30)).isoformat()
    first = world.post({"hits": [hit(**reader), hit(url="https://example.com/b", **reader)]})
    second = world.post({"hits": [hit(timestamp=earlier, **reader)]})
    assert reasons(first) + reasons(second) == ["accepted"] * 3
    # and the same reader's hit in the browser (same address, same User-Agent)
    browser = world.client.post(
        "/api/v1/hits",
        data=json.dumps({"site": world.site, "url": "https://example.com/c"}),
        headers={"Content-Type": "text/plain", "User-Agent": CHROME},
        environ_base={"REMOTE_ADDR": "203.0.113.9"},
    )
    assert browser.headers["X-Page-Tracker-Reason"] == "accepted"
    # and another reader on the same address with another browser
    assert reasons(world.post({"hits": [hit(ip="203.0.113.9", user_agent=FIREFOX)]})) == [
        "accepted"
    ]
    # Then five views of two visitors
    assert world.counted() == (5, 2)


@pytest.mark.parametrize(
    ("token", "site", "status"),
    [
        ("read", None, 403),  # a token without the write scope
        ("viewer", None, 403),  # a viewer may see the site, not add to it
        ("stranger", None, 404),  # another user's token: the site does not exist for them
        ("write", "other", 404),  # the owner's token, on a site they are no member of
        ("write", "zzzzzzzzzzzz", 404),  # no such site
        ("revoked", None, 401),
        ("expired", None, 401),
    ],
)
def test_should_count_hits_only_from_a_write_token_of_the_sites_owner(
    embedded: World, token: str, site: str | None, status: int
) -> None:
    target = embedded.other_site if site == "other" else site
    answer = embedded.post({"hits": [hit(1)]}, caller=token, site=target)
    assert answer.status_code == status, answer.get_data(as_text=True)
    assert answer.get_json()["code"] == status
    anonymous = embedded.client.post(f"/api/v1/sites/{embedded.site}/hits", json={"hits": [hit()]})
    assert anonymous.status_code == 401
    assert embedded.counted() == (0, 0)


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"{not json", "application/json", 400),
        (b'{"hits": []}', "application/json", 400),
        (b'{"hits": {}}', "application/json", 400),
        (b'{"hits": [{"url": "https://example.com/"}]}', "application/json", 400),
        (json.dumps({"hits": [hit(ip=7)]}).encode(), "application/json", 400),
        (json.dumps({"hits": [hit(timestamp="2026-01-01T10:00:00")]}).encode(), None, 400),
        (json.dumps({"hits": [hit(colour="red")]}).encode(), None, 400),
        (json.dumps({"hits": [hit()], "extra": 1}).encode(), None, 400),
        (b"[" * 100_000 + b"]" * 100_000, "application/json", 400),
        (json.dumps({"hits": [hit()]}).encode(), "text/plain", 415),
        (json.dumps({"hits": [hit(title="x" * (4 * 1024 * 1024))]}).encode(), None, 413),
    ],
)
def test_should_refuse_a_bad_body_whole_and_count_nothing(
    embedded: World, body: bytes, content_type: str | None, status: int
) -> None:
    answer = embedded.client.post(
        f"/api/v1/sites/{embedded.site}/hits",
        data=body,
        content_type=content_type or "application/json",
        headers={"Authorization": f"Bearer {embedded.tokens['write']}"},
    )
    assert answer.status_code == status, answer.get_data(as_text=True)[:300]
    assert answer.get_json()["code"] == status
    assert embedded.counted() == (0, 0)


ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=40)  # NUL, surrogates too
REASONS = {
    "accepted",
    "malformed",
    "host-not-allowed",
    "bot",
    "dnt",
    "timestamp-too-old",
    "timestamp-in-future",
}
HITS = st.lists(
    st.fixed_dictionaries(
        {
            "url": st.one_of(
                st.just("https://example.com/"),
                ANY_TEXT.map(lambda path: f"https://example.com/{path}"),
                st.just("https://elsewhere.example/"),
                ANY_TEXT,
            ),
            "ip": st.one_of(st.ip_addresses().map(str), ANY_TEXT),
            "user_agent": st.one_of(st.sampled_from([CHROME, FIREFOX, "curl/8.4.0"]), ANY_TEXT),
        },
        optional={
            "timestamp": st.timedeltas(timedelta(days=-3), timedelta(hours=3)),
            "referrer": st.none() | ANY_TEXT,
            "title": st.none() | ANY_TEXT,
            "event": st.none() | ANY_TEXT,
            "dnt": st.booleans(),
        },
    ),
    min_size=1,
    max_size=30,
)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_should_answer_any_batch_with_a_verdict_per_hit_and_count_the_accepted(
    clean_database: str, make_app: Callable[..., Flask]
) -> None:
    world = build_world(make_app(DATABASE_URL=clean_database))
    expected = 0

    @given(batch=HITS)
    def one_batch(batch: list[dict[str, Any]]) -> None:
        nonlocal expected
        for item in batch:  # an offset from now, as the backend's RFC 3339 timestamp
            if "timestamp" in item:
                item["timestamp"] = (datetime.now(UTC) + item["timestamp"]).isoformat()
        answer = world.post({"hits": batch})
        assert answer.status_code == 202, answer.get_data(as_text=True)
        body = answer.get_json()
        assert len(body["verdicts"]) == len(batch)
        assert set(reasons(answer)) <= REASONS
        assert body["accepted"] == sum(verdict["accepted"] for verdict in body["verdicts"])
        expected += body["accepted"]
        assert site_pageviews(world) == expected

    one_batch()


def site_pageviews(world: World) -> int:
    with world.app.app_context():
        value = get_session().scalar(
            select(Total.pageviews).where(Total.site_id == world.site, Total.path_id == SITE)
        )
        return int(value or 0)
