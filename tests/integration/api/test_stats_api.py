"""``/api/v1/sites/{id}/stats`` and its breakdowns on each database, with hits counted
through the real ingest path (:func:`page_tracker.ingest.record.record` at chosen
moments): time zones across DST changes, the previous period, filters, breakdowns with
limit/offset, CSV, ETag/Last-Modified and 304, bad requests, Redis mode's freshness."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient

from page_tracker import migrate
from page_tracker.auth.tokens import Scope, issue_token
from page_tracker.buffer.live import RedisLiveVisitors
from page_tracker.buffer.tasks import get_flusher
from page_tracker.db import DATABASE, get_session
from page_tracker.imports.rollup_rows import rollup_rows
from page_tracker.ingest.hits import RawHit
from page_tracker.ingest.record import record
from page_tracker.sites.services import create_site
from page_tracker.users.memberships import set_member
from page_tracker.users.models import MemberRole
from page_tracker.users.services import create_user

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# Around Europe/Berlin's spring change (2026-03-29, 02:00 CET -> 03:00 CEST = 01:00 UTC).
# (moment, path, ip, user agent, referrer)
HITS: list[tuple[str, str, str, str, str | None]] = [
    ("2026-03-28T23:30", "/a", "8.8.8.8", FIREFOX, "https://news.example.net/x"),  # 29th 00:30+1
    ("2026-03-29T00:30", "/a", "193.99.144.80", CHROME, None),  # 29th 01:30+01
    ("2026-03-29T01:30", "/b?utm_campaign=spring", "8.8.8.8", IPHONE, None),  # 29th 03:30+02
    ("2026-03-29T01:40", "/a", "8.8.8.8", IPHONE, "https://news.example.net/y"),  # same visitor
    ("2026-03-29T22:30", "/c", "81.2.69.142", FIREFOX, None),  # 30th 00:30+02
    # the previous period of 2026-03-29 alone is 2026-03-28 (UTC)
    ("2026-03-28T10:00", "/a", "2.16.0.1", CHROME, None),
]


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

    def hit(self, at: str, path: str, ip: str, agent: str, referrer: str | None) -> None:
        raw = RawHit(
            site_id=self.site,
            url=f"https://site.example{path}",
            user_agent=agent,
            ip=ip,
            referrer=referrer,
            title=f"Page {path[1]}",
            source="js",
        )
        with self.app.app_context():
            assert record(raw, now=utc(at)).reason == "accepted"


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


@pytest.fixture
def tracker(clean_database: str, make_app: Callable[..., Flask]) -> Tracker:
    found = _tracker(make_app(DATABASE_URL=clean_database))
    for hit in HITS:
        found.hit(*hit)
    return found


def _series(answer: Any) -> list[tuple[str, int, int]]:
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return [(p["period"], p["pageviews"], p["visitors"]) for p in answer.get_json()["series"]]


def test_should_put_hours_in_local_days_across_the_spring_dst_change(tracker: Tracker) -> None:
    hours = _series(
        tracker.get("/stats?from=2026-03-29&to=2026-03-29&interval=hour&tz=Europe/Berlin")
    )
    assert len(hours) == 23  # the day clocks go forward has 23 hours
    assert hours[:4] == [
        ("2026-03-29T00:00:00+01:00", 1, 1),
        ("2026-03-29T01:00:00+01:00", 1, 1),
        ("2026-03-29T03:00:00+02:00", 2, 1),  # 02:00 does not exist; one visitor, two views
        ("2026-03-29T04:00:00+02:00", 0, 0),
    ]
    days = _series(tracker.get("/stats?from=2026-03-28&to=2026-03-30&tz=Europe/Berlin"))
    assert days == [("2026-03-28", 1, 1), ("2026-03-29", 4, 3), ("2026-03-30", 1, 1)]
    utc_days = _series(tracker.get("/stats?from=2026-03-28&to=2026-03-30&tz=UTC"))
    assert utc_days == [("2026-03-28", 2, 2), ("2026-03-29", 4, 3), ("2026-03-30", 0, 0)]
    months = _series(tracker.get("/stats?from=2026-02-15&to=2026-04-02&interval=month"))
    assert months == [("2026-02", 0, 0), ("2026-03", 6, 5), ("2026-04", 0, 0)]


def test_should_give_the_autumn_change_25_hours(tracker: Tracker) -> None:
    hours = _series(
        tracker.get("/stats?from=2026-10-25&to=2026-10-25&interval=hour&tz=Europe/Berlin")
    )
    assert len(hours) == 25
    assert [period for period, _, _ in hours[2:4]] == [
        "2026-10-25T02:00:00+02:00",
        "2026-10-25T02:00:00+01:00",  # the hour that comes twice, told apart by its offset
    ]


def test_should_compare_totals_with_the_previous_period(tracker: Tracker) -> None:
    body = tracker.get("/stats?from=2026-03-29&to=2026-03-29").get_json()
    assert body["totals"] == {"pageviews": 4, "visitors": 3}
    assert body["previous"] == {"pageviews": 2, "visitors": 2}  # 2026-03-28 (UTC)
    assert body["change"] == {"pageviews": 100.0, "visitors": 50.0}
    empty = tracker.get("/stats?from=2026-01-01&to=2026-01-02").get_json()
    assert empty["change"] == {"pageviews": None, "visitors": None}
    assert empty["freshness"]["unflushed_pageviews"] == 0


def test_should_filter_by_page_in_any_zone_and_by_dimensions_on_utc_days(
    tracker: Tracker,
) -> None:
    page = tracker.get("/stats?from=2026-03-29&to=2026-03-29&tz=Europe/Berlin&page=/a")
    assert page.get_json()["totals"] == {"pageviews": 3, "visitors": 3}
    referred = tracker.get("/stats?from=2026-03-28&to=2026-03-29&referrer=news.example.net")
    assert _series(referred) == [("2026-03-28", 1, 1), ("2026-03-29", 1, 0)]
    mobile = tracker.get("/stats?from=2026-03-29&to=2026-03-29&device=mobile").get_json()
    assert mobile["totals"] == {"pageviews": 2, "visitors": 1}
    german = tracker.get("/stats?from=2026-03-29&to=2026-03-29&country=DE").get_json()
    assert german["totals"] == {"pageviews": 1, "visitors": 1}
    unknown = tracker.get("/stats?from=2026-03-29&to=2026-03-29&page=/nowhere").get_json()
    assert unknown["totals"] == {"pageviews": 0, "visitors": 0}


def test_should_filter_by_browser_os_and_campaign_on_utc_days(tracker: Tracker) -> None:
    day = "/stats?from=2026-03-29&to=2026-03-29"
    firefox = tracker.get(f"{day}&browser=Firefox").get_json()
    assert firefox["totals"] == {"pageviews": 1, "visitors": 1}  # 22:30 (23:30 is the 28th)
    ios = tracker.get(f"{day}&os=iOS").get_json()
    assert ios["totals"] == {"pageviews": 2, "visitors": 1}
    spring = tracker.get(f"{day}&campaign=spring").get_json()
    assert spring["totals"] == {"pageviews": 1, "visitors": 1}
    nothing = tracker.get(f"{day}&browser=Netscape").get_json()
    assert nothing["totals"] == {"pageviews": 0, "visitors": 0}
    berlin = tracker.get(f"{day}&browser=Firefox&tz=Europe/Berlin")
    assert berlin.status_code == 422
    assert tracker.get(f"{day}&os=iOS&browser=Firefox").status_code == 400  # no such rollup
    assert tracker.get(f"{day}&campaign=%07").status_code == 400


def _items(answer: Any) -> list[tuple[str, int, int]]:
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return [(i["value"], i["pageviews"], i["visitors"]) for i in answer.get_json()["items"]]


def test_should_break_down_with_limit_and_offset(tracker: Tracker) -> None:
    march = "from=2026-03-28&to=2026-03-31"
    pages = tracker.get(f"/stats/pages?{march}&limit=2")
    assert _items(pages) == [("/a", 4, 4), ("/b", 1, 1)]
    assert pages.get_json()["total"] == 3
    assert pages.get_json()["items"][0]["title"] == "Page a"
    assert _items(tracker.get(f"/stats/pages?{march}&limit=2&offset=2")) == [("/c", 1, 1)]
    local = tracker.get("/stats/pages?from=2026-03-29&to=2026-03-29&tz=Europe/Berlin")
    assert local.get_json()["basis"] == "local-hours"
    assert _items(local) == [("/a", 3, 3), ("/b", 1, 1)]
    assert _items(tracker.get(f"/stats/browsers?{march}")) == [
        ("Chrome", 2, 2),
        ("Firefox", 2, 2),
        ("Mobile Safari", 2, 1),
    ]
    assert _items(tracker.get(f"/stats/referrers?{march}")) == [("news.example.net", 2, 1)]
    assert _items(tracker.get(f"/stats/campaigns?{march}")) == [("spring", 1, 1)]
    assert _items(tracker.get(f"/stats/entry_pages?{march}")) == [
        ("/a", 3, 3),
        ("/b", 1, 1),
        ("/c", 1, 1),
    ]
    assert _items(tracker.get(f"/stats/devices?{march}"))[0] == ("desktop", 4, 4)
    countries = {v: pv for v, pv, _ in _items(tracker.get(f"/stats/countries?{march}"))}
    assert countries == {"US": 3, "DE": 1, "GB": 1, "NL": 1}
    past_the_end = tracker.get(f"/stats/os?{march}&limit=1&offset=50")
    assert _items(past_the_end) == []
    assert past_the_end.get_json()["total"] == 3  # Linux, Windows, iOS


def test_should_answer_csv_by_accept_header_or_format(tracker: Tracker) -> None:
    by_header = tracker.get("/stats?from=2026-03-28&to=2026-03-29", Accept="text/csv")
    assert by_header.status_code == 200
    assert by_header.mimetype == "text/csv"
    assert by_header.headers["Content-Disposition"] == (
        f'attachment; filename="{tracker.site}-stats-2026-03-28-2026-03-29.csv"'
    )
    rows = list(csv.reader(io.StringIO(by_header.get_data(as_text=True))))
    assert rows[0] == ["period", "start", "pageviews", "visitors"]
    assert rows[1:] == [
        ["2026-03-28", "2026-03-28T00:00:00+00:00", "2", "2"],
        ["2026-03-29", "2026-03-29T00:00:00+00:00", "4", "3"],
    ]
    by_format = tracker.get("/stats/pages?from=2026-03-28&to=2026-03-31&format=csv")
    rows = list(csv.reader(io.StringIO(by_format.get_data(as_text=True))))
    assert rows[:2] == [["value", "title", "pageviews", "visitors"], ["/a", "Page a", "4", "4"]]
    json_anyway = tracker.get("/stats?format=json", Accept="text/csv")
    assert json_anyway.mimetype == "application/json"
    # Accept is matched as HTTP says (case, wildcards, quality), JSON first on a tie
    for accept, media in (
        ("TEXT/CSV", "text/csv"),
        ("text/*", "text/csv"),
        ("application/json;q=0.5, text/csv", "text/csv"),
        ("*/*", "application/json"),
        ("text/csv;q=0.1, application/json", "application/json"),
        ("application/json", "application/json"),
        ("image/png", "application/json"),
        ("", "application/json"),
    ):
        assert tracker.get("/stats", Accept=accept).mimetype == media, accept


def test_should_answer_304_to_a_matching_conditional_request(tracker: Tracker) -> None:
    url = "/stats?from=2026-03-28&to=2026-03-29"
    first = tracker.get(url)
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert modified == "Sun, 29 Mar 2026 23:00:00 GMT"  # the end of the latest hour counted
    again = tracker.get(url, **{"If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""
    assert tracker.get(url, **{"If-Modified-Since": modified}).status_code == 304
    as_csv = tracker.get(url, Accept="text/csv", **{"If-None-Match": etag})
    assert as_csv.status_code == 200  # another representation, another tag
    tracker.hit("2026-03-29T23:10", "/a", "8.8.8.8", FIREFOX, None)
    changed = tracker.get(url, **{"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    # the latest counted hour (cached beside the report) moved with the write
    assert changed.headers["Last-Modified"] == "Mon, 30 Mar 2026 00:00:00 GMT"
    assert changed.get_json()["freshness"]["last_counted_hour"] == "2026-03-29T23:00:00Z"


@pytest.mark.parametrize(
    ("query", "status", "words"),
    [
        ("from=2026-03-30&to=2026-03-29", 422, "after"),
        ("from=2026-02-30", 400, "from"),
        ("tz=Mars/Olympus", 422, "time zone"),
        ("from=1999-12-31", 422, "between"),
        ("from=2026-01-01&to=2026-03-01&interval=hour", 422, "at most 31 days"),
        ("interval=week", 400, "interval"),
        ("browser=Firefox&country=DE", 400, "one of browser, country at a time"),
        ("country=DE&tz=Europe/Berlin", 422, "UTC"),
        ("country=germany", 400, "country"),
        ("colour=blue", 400, "colour"),
    ],
)
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_should_refuse_bad_parameters_in_the_error_shape(
    clean_database: str, make_app: Callable[..., Flask], query: str, status: int, words: str
) -> None:
    tracker = _tracker(make_app(DATABASE_URL=clean_database))
    answer = tracker.get(f"/stats?{query}")
    assert answer.status_code == status
    body = answer.get_json()
    assert body["code"] == status
    assert words in f"{body['message']} {body.get('details')}"


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/stats/pages?limit=0", 400),
        ("/stats/pages?limit=1001", 400),
        ("/stats/pages?offset=-1", 400),
        ("/stats/entry-pages", 404),  # the breakdown is entry_pages
        ("/stats/exit_pages", 404),
        ("/stats/entry_pages?search=x", 422),
        ("/stats/campaigns?utm=gclid", 400),
    ],
)
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_should_refuse_bad_breakdowns(
    clean_database: str, make_app: Callable[..., Flask], path: str, status: int
) -> None:
    tracker = _tracker(make_app(DATABASE_URL=clean_database))
    answer = tracker.get(path)
    assert answer.status_code == status
    assert answer.get_json()["code"] == status


@pytest.fixture
def redis_tracker(
    make_app: Callable[..., Flask], clean_database: str, redis_url: str, redis_prefix: str
) -> Iterator[Tracker]:
    app = make_app(DATABASE_URL=clean_database, REDIS_URL=redis_url, REDIS_KEY_PREFIX=redis_prefix)
    yield _tracker(app)
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(f"{redis_prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()


def test_should_say_how_many_hits_wait_for_the_flush_in_redis_mode(
    redis_tracker: Tracker,
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    for ip in ("8.8.8.8", "193.99.144.80"):
        redis_tracker.hit(now.isoformat()[:19], "/a", ip, FIREFOX, None)
    waiting = redis_tracker.get("/stats").get_json()
    assert waiting["totals"]["pageviews"] == 0
    assert waiting["freshness"]["unflushed_pageviews"] == 2
    flusher = get_flusher(redis_tracker.app)
    assert flusher is not None
    flusher.flush()
    flushed = redis_tracker.get("/stats").get_json()
    assert flushed["totals"] == {"pageviews": 2, "visitors": 2}
    assert flushed["freshness"]["unflushed_pageviews"] == 0


def test_should_count_live_visitors_of_the_last_five_minutes_in_redis_mode(
    redis_tracker: Tracker,
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    recent = (now - timedelta(minutes=1)).isoformat()[:19]
    redis_tracker.hit(recent, "/a", "8.8.8.8", FIREFOX, None)
    redis_tracker.hit(recent, "/b", "8.8.8.8", FIREFOX, None)  # the same visitor
    redis_tracker.hit(now.isoformat()[:19], "/a", "193.99.144.80", CHROME, None)
    stale = (now - timedelta(minutes=6)).isoformat()[:19]
    redis_tracker.hit(stale, "/a", "81.2.69.142", FIREFOX, None)  # gone for five minutes
    answer = redis_tracker.get("/stats/realtime")
    assert answer.status_code == 200
    assert answer.get_json() == {"site": redis_tracker.site, "visitors": 2, "window_seconds": 300}
    assert answer.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_should_say_embedded_mode_cannot_tell_live_visitors(
    clean_database: str, make_app: Callable[..., Flask]
) -> None:
    tracker = _tracker(make_app(DATABASE_URL=clean_database))
    assert tracker.get("/stats/realtime").get_json()["visitors"] is None


def test_should_say_unknown_rather_than_fail_when_redis_does_not_answer() -> None:
    nobody = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5)
    live = RedisLiveVisitors(nobody, "pt-test:")
    assert live.count("site00000001") is None
    assert live.unflushed_pageviews("site00000001") is None
    nobody.close()


def test_should_refuse_control_characters_in_filters_on_every_database(tracker: Tracker) -> None:
    for name in ("referrer", "page"):
        answer = tracker.get(f"/stats?{name}=/a%00b")
        assert answer.status_code == 400
        assert answer.get_json()["details"][0]["field"] == f"query.{name}"


def test_should_export_each_hour_once_by_page_and_once_for_the_whole_site(
    tracker: Tracker,
) -> None:
    # The whole site's hours travel as their own rows (empty path): the import reads
    # them back as the site's hours, never as a page's, so nothing is counted twice.
    with tracker.app.app_context():
        rows = [row for row in rollup_rows(get_session(), tracker.site) if row.table == "hourly"]
    pages = [row for row in rows if row.path]
    site = [row for row in rows if not row.path]
    assert sum(row.pageviews for row in pages) == len(HITS)  # each view once, by its page
    assert sum(row.pageviews for row in site) == len(HITS)  # and once for the site


def test_should_search_pages_by_path_or_title_words(tracker: Tracker) -> None:
    found = tracker.get("/pages/search?q=page")
    assert found.status_code == 200, found.get_data(as_text=True)
    body = found.get_json()
    assert body["words"] == ["page"]
    first = body["items"][0]
    assert (first["path"], first["title"]) == ("/a", "Page a")  # the most viewed
    assert {i["path"] for i in body["items"]} == {"/a", "/b", "/c"}
    march = "from=2026-03-28&to=2026-03-31"
    only_b = tracker.get(f"/stats/pages?{march}&search=Page%20b")
    assert _items(only_b) == [("/b", 1, 1)]
    assert only_b.get_json()["total"] == 1
    operators = tracker.get("/pages/search?q=%22page%22%2A%20-%2B(%27&limit=1")
    assert operators.status_code == 200
    assert operators.get_json()["words"] == ["page"]
    assert len(operators.get_json()["items"]) == 1
    spelled_out = tracker.get("/pages/search?q=page%20OR%20NEAR").get_json()
    assert spelled_out["items"] == []  # plain words, every one needed


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/pages/search", 400),  # no q
        ("/pages/search?q=", 400),
        ("/pages/search?q=a%00b", 400),
        # a lone surrogate's bytes: werkzeug keeps invalid UTF-8 percent-encoded (text)
        ("/pages/search?q=%ED%A0%80", 200),
        ("/pages/search?q=%22%2A%2D%2B", 422),  # only operators
        ("/pages/search?q=page&limit=0", 400),
        (f"/pages/search?q={'x' * 201}", 400),
        ("/stats/pages?search=%00", 400),
        ("/stats/pages?search=%22%22", 422),
        ("/stats/browsers?search=page", 422),
    ],
)
def test_should_refuse_bad_searches_in_the_error_shape(
    tracker: Tracker, path: str, status: int
) -> None:
    route, _, query = path.partition("?")
    answer = tracker.client.get(  # the query's bytes as given (not re-quoted)
        f"/api/v1/sites/{tracker.site}{route}",
        environ_overrides={"QUERY_STRING": query},
        headers={"Authorization": f"Bearer {tracker.token}"},
    )
    assert answer.status_code == status, answer.get_data(as_text=True)
    assert answer.get_json().get("code", 200) == status


def test_should_read_the_waiting_views_along_with_the_epoch_in_one_round_trip(
    redis_tracker: Tracker, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given cached answers of a site with views waiting for the flush
    now = datetime.now(UTC).replace(microsecond=0)
    redis_tracker.hit(now.isoformat()[:19], "/a", "8.8.8.8", FIREFOX, None)
    for path in ("/stats", "/stats/pages?limit=10"):
        assert redis_tracker.get(path).status_code == 200
    sent: list[int] = []
    original: Any = redis.connection.AbstractConnection.send_packed_command

    def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", counted)
    for path in ("/stats", "/stats/pages?limit=10"):
        # When a cached answer is read
        sent.clear()
        answer = redis_tracker.get(path)
        # Then the epoch and the waiting views came in one round trip, and say so
        assert answer.status_code == 200
        assert len(sent) == 1
        assert answer.get_json()["freshness"]["unflushed_pageviews"] == 1
    # And another view waiting is seen by the next cached read at once
    redis_tracker.hit(now.isoformat()[:19], "/b", "193.99.144.80", CHROME, None)
    for path in ("/stats", "/stats/pages?limit=10"):
        assert redis_tracker.get(path).get_json()["freshness"]["unflushed_pageviews"] == 2
