"""Entry pages (issue 10 item 4, issue 12 item 1): the page of each daily visitor's first
view of the site, counted by the one rollup write path in embedded and Redis mode alike,
exactly once (batches flushed together out of time order, a bisected flush, a batch
written twice), and read by the stats API's ``entry_pages`` breakdown and
``entry_page`` filter (each database)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from page_tracker import migrate
from page_tracker.auth.tokens import Scope, issue_token
from page_tracker.buffer.batch_format import encode_views
from page_tracker.buffer.counted_batches import write_batches
from page_tracker.buffer.redis_keys import RedisKeys
from page_tracker.buffer.redis_scripts import Scripts, ingest_arguments
from page_tracker.buffer.tasks import get_flusher
from page_tracker.db import DATABASE, get_session
from page_tracker.enrich import Enrichment
from page_tracker.ingest.hits import RawHit
from page_tracker.ingest.record import record
from page_tracker.redis_client import REDIS
from page_tracker.settings import SETTINGS
from page_tracker.sites.services import create_site
from page_tracker.stats import rollup
from page_tracker.stats.models import DailyDimensionCount, Dimension
from page_tracker.stats.pageview import PageView
from page_tracker.users.memberships import set_member
from page_tracker.users.models import MemberRole
from page_tracker.users.services import create_user

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
A = ("8.8.8.8", FIREFOX)
B = ("193.99.144.80", CHROME)
# (UTC moment, path, visitor): two visitors with several views a day; both come back
# on the second day, where each enters again.
VISITS = [
    ("2026-03-10T10:00", "/home", A),
    ("2026-03-10T10:05", "/blog", A),
    ("2026-03-10T10:10", "/about?ref=x", A),
    ("2026-03-10T11:00", "/blog", B),
    ("2026-03-10T11:02", "/home", B),
    ("2026-03-10T12:00", "/about", A),
    ("2026-03-11T09:00", "/home", A),
    ("2026-03-11T09:30", "/home", B),
    ("2026-03-11T09:31", "/blog", B),
]
BOTH_DAYS = "from=2026-03-10&to=2026-03-11"


@dataclass
class Tracker:
    app: Flask
    client: FlaskClient
    site: str
    token: str

    def get(self, path: str, **headers: str) -> Any:
        return self.client.get(
            f"/api/v1/sites/{self.site}{path}",
            headers={"Authorization": f"Bearer {self.token}", **headers},
        )

    def hit(self, at: str, path: str, who: tuple[str, str]) -> None:
        ip, agent = who
        raw = RawHit(
            site_id=self.site,
            url=f"https://site.example{path}",
            user_agent=agent,
            ip=ip,
            referrer=None,
            title=None,
            source="js",
        )
        with self.app.app_context():
            moment = datetime.fromisoformat(at).replace(tzinfo=UTC)
            assert record(raw, now=moment).reason == "accepted"

    def flush(self) -> None:
        flusher = get_flusher(self.app)
        if flusher is not None:  # Redis mode
            flusher.flush()
            assert flusher.backlog() == 0


def _tracker(app: Flask) -> Tracker:
    with app.app_context():
        migrate.upgrade(DATABASE.get(app).engine)
        session = get_session()
        owner = create_user(session, "owner@example.com", "correct horse")
        site = create_site(session, "site.example")
        set_member(session, site.id, owner, MemberRole.VIEWER)
        _, token = issue_token(session, owner, (Scope.READ,), expires_in=timedelta(hours=1))
        session.commit()
        return Tracker(app, app.test_client(), site.id, token)


@pytest.fixture(params=["embedded", "redis"])
def tracker(
    request: pytest.FixtureRequest,
    clean_database: str,
    make_app: Callable[..., Flask],
    redis_url: str,
    redis_prefix: str,
) -> Iterator[Tracker]:
    """A site with :data:`VISITS` counted, in embedded or Redis mode (flushed)."""
    env = {"DATABASE_URL": clean_database}
    if request.param == "redis":
        env |= {"REDIS_URL": redis_url, "REDIS_KEY_PREFIX": redis_prefix}
    found = _tracker(make_app(**env))
    for visit in VISITS:
        found.hit(*visit)
    # Redis mode: every visit is a batch of its own, flushed together in one transaction
    # (in the order of their random batch ids, not of time).
    found.flush()
    yield found
    if request.param == "redis":
        client = redis.Redis.from_url(redis_url)
        keys = list(client.scan_iter(f"{redis_prefix}*"))
        if keys:
            client.delete(*keys)
        client.close()


def _items(answer: Any) -> list[tuple[str, int, int]]:
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return [(i["value"], i["pageviews"], i["visitors"]) for i in answer.get_json()["items"]]


def test_should_count_each_visitors_first_page_of_each_day_as_their_entry(
    tracker: Tracker,
) -> None:
    # Then each visitor entered once a day, on the page of their first view that day
    entries = tracker.get(f"/stats/entry_pages?{BOTH_DAYS}")
    assert _items(entries) == [("/home", 3, 3), ("/blog", 1, 1)]
    assert entries.get_json()["basis"] == "utc-days"
    assert entries.get_json()["total"] == 2
    first_day = tracker.get("/stats/entry_pages?from=2026-03-10&to=2026-03-10")
    assert _items(first_day) == [("/blog", 1, 1), ("/home", 1, 1)]
    # while the pages and the visitors stay what they were
    assert tracker.get(f"/stats?{BOTH_DAYS}").get_json()["totals"] == {
        "pageviews": 9,
        "visitors": 4,
    }
    assert _items(tracker.get(f"/stats/pages?{BOTH_DAYS}&limit=1")) == [("/home", 4, 4)]


def test_should_page_filter_and_export_entry_pages(tracker: Tracker) -> None:
    assert _items(tracker.get(f"/stats/entry_pages?{BOTH_DAYS}&limit=1&offset=1")) == [
        ("/blog", 1, 1)
    ]
    past = tracker.get(f"/stats/entry_pages?{BOTH_DAYS}&limit=1&offset=5")
    assert _items(past) == []
    assert past.get_json()["total"] == 2
    # The entry_page filter: the entrances on one page, day by day
    home = tracker.get(f"/stats?{BOTH_DAYS}&entry_page=/home").get_json()
    assert [(p["period"], p["pageviews"], p["visitors"]) for p in home["series"]] == [
        ("2026-03-10", 1, 1),
        ("2026-03-11", 2, 2),
    ]
    assert tracker.get(f"/stats?{BOTH_DAYS}&entry_page=/home&tz=Europe/Berlin").status_code == 422
    assert tracker.get(f"/stats?{BOTH_DAYS}&entry_page=home").status_code == 400
    as_csv = tracker.get(f"/stats/entry_pages?{BOTH_DAYS}&format=csv")
    rows = list(csv.reader(io.StringIO(as_csv.get_data(as_text=True))))
    assert rows == [
        ["value", "title", "pageviews", "visitors"],
        ["/home", "", "3", "3"],
        ["/blog", "", "1", "1"],
    ]


# --- the write path itself: order within a flush, retries, bisection ----------------

DAY = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)


def a_view(path: str, visitor: int, minutes: int, site: str) -> PageView:
    return PageView(
        site_id=site,
        path=path,
        hostname="site.example",
        timestamp=DAY + timedelta(minutes=minutes),
        visitor=visitor.to_bytes(16, "big"),
        lifetime_visitor=(visitor + 1000).to_bytes(16, "big"),
        source="js",
        enrichment=Enrichment(),
    )


def entry_pages(engine: Engine, site: str) -> dict[str, tuple[int, int]]:
    with Session(engine) as session:
        rows = session.execute(
            select(Dimension.value, DailyDimensionCount.pageviews, DailyDimensionCount.visitors)
            .join(Dimension, Dimension.id == DailyDimensionCount.dimension_id)
            .where(DailyDimensionCount.site_id == site, Dimension.kind == rollup.ENTRY_PAGE)
        )
        return {value: (pv, uv) for value, pv, uv in rows}


def test_should_take_the_earliest_view_of_batches_counted_together_once(engine: Engine) -> None:
    site = "site00000001"
    factory = sessionmaker(engine)
    # Given two batches of one visitor whose ids sort against their time
    later = [a_view("/later", 1, 30, site), a_view("/second", 2, 31, site)]
    earlier = [a_view("/first", 1, 0, site)]
    # When both are written in one transaction, and again (a retried flush)
    assert write_batches(factory, [("a-later", later), ("b-earlier", earlier)]) == {
        "a-later",
        "b-earlier",
    }
    assert write_batches(factory, [("a-later", later), ("b-earlier", earlier)]) == set()
    # Then the visitor entered on the earliest page, once; a later batch adds no entry
    write_batches(factory, [("c-next", [a_view("/later", 1, 40, site)])])
    assert entry_pages(engine, site) == {"/first": (1, 1), "/second": (1, 1)}
    # and the next UTC day (a new daily hash) is a new entrance
    tomorrow = replace(a_view("/later", 3, 0, site), timestamp=DAY + timedelta(days=1))
    write_batches(factory, [("d-tomorrow", [tomorrow])])
    assert entry_pages(engine, site) == {"/first": (1, 1), "/second": (1, 1), "/later": (1, 1)}


def test_should_count_entrances_once_when_a_redis_flush_bisects_a_bad_entry(
    redis_app: Flask,
) -> None:
    # Given stream entries of two visitors around one that no database stores
    with redis_app.app_context():
        session = get_session()
        site = create_site(session, "site.example").id
        session.commit()
    poison = replace(a_view("/p", 9, 1, site), title="poison\ud800")
    _stream(redis_app, [a_view("/a", 1, 0, site), a_view("/b", 1, 5, site)], "good-1")
    _stream(redis_app, [poison], "bad")
    _stream(redis_app, [a_view("/c", 1, 10, site), a_view("/d", 2, 11, site)], "good-2")
    flusher = get_flusher(redis_app)
    assert flusher is not None
    # When flushed until the bad entry is in the dead letters
    for _ in range(flusher.max_attempts + 1):
        flusher.flush(max_seconds=1)
    assert flusher.backlog() == 0
    # Then each good visitor entered once, on their first page
    with redis_app.app_context():
        engine = DATABASE.get(redis_app).engine
        assert entry_pages(engine, site) == {"/a": (1, 1), "/d": (1, 1)}


def _stream(app: Flask, views: list[PageView], batch_id: str) -> None:
    keys = RedisKeys(SETTINGS.get(app).redis_key_prefix)
    stream_keys, argv = ingest_arguments(keys, batch_id, encode_views(views), views)
    Scripts(REDIS.get(app)).ingest(keys=stream_keys, args=argv)
