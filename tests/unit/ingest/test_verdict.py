"""ingest.process with in-memory collaborators (a site directory and a salt store)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, cast

import pytest
from sqlalchemy.orm import Session

from page_tracker.ingest.hits import RawHit
from page_tracker.ingest.verdict import Verdict, process
from page_tracker.settings import load_settings
from page_tracker.sites.services import SiteDirectory, SiteInfo

READER = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)
SITE = SiteInfo(
    id="site00000001",
    domain="example.com",
    hosts=frozenset({"example.com", "www.example.com", "blog.example.org"}),
    public_counters=False,
    honour_dnt=True,
    retention_days=None,
)
NOW = datetime(2026, 6, 1, 10, 15, tzinfo=UTC)


class Sites(SiteDirectory):
    def __init__(self, *sites: SiteInfo) -> None:
        super().__init__(ttl=0)
        self.sites = {site.id: site for site in sites}

    def by_id(self, session: Session, site_id: str) -> SiteInfo | None:
        return self.sites.get(site_id)

    def by_host(self, session: Session, host: str) -> SiteInfo | None:
        return next((site for site in self.sites.values() if host in site.hosts), None)


class Salts:
    def __init__(self) -> None:
        self.days: list[date] = []

    def salt_for(self, day: date) -> bytes:
        self.days.append(day)
        return day.isoformat().encode()

    def rotate(self, today: date) -> None:
        raise AssertionError("not used")


def judge(raw: RawHit, site: SiteInfo = SITE, secret: str = "s" * 32) -> Verdict:
    settings = load_settings(SECRET_KEY=secret)
    return process(raw, cast(Session, None), settings, NOW, sites=Sites(site), salts=Salts())


def hit(**changes: Any) -> RawHit:
    values: dict[str, Any] = {
        "site_id": SITE.id,
        "url": "https://example.com/post?utm_source=newsletter#top",
        "user_agent": READER,
        "ip": "203.0.113.9",
        "referrer": "https://news.ycombinator.com/item?id=1",
        "title": "A post",
        "screen": "1920x1080",
    }
    return RawHit(**{**values, **changes})


def test_should_accept_and_enrich_a_reader_hit() -> None:
    verdict = judge(hit())
    assert (verdict.accepted, verdict.reason) == (True, "accepted")
    view = verdict.view
    assert view is not None
    assert (view.site_id, view.path, view.hostname) == (SITE.id, "/post", "example.com")
    assert view.timestamp == NOW
    found = view.enrichment
    assert (found.browser, found.device, found.utm_source) == ("Chrome", "desktop", "newsletter")
    assert found.referrer_source == "Hacker News"
    assert len(view.visitor) == 16
    assert view.visitor != view.lifetime_visitor
    assert "203.0.113.9" not in repr(view)


def test_should_give_the_same_reader_the_same_hashes_and_others_different_ones() -> None:
    first, again = judge(hit()).view, judge(hit(url="https://www.example.com/other")).view
    other = judge(hit(ip="203.0.113.10")).view
    assert first is not None
    assert again is not None
    assert other is not None
    assert (first.visitor, first.lifetime_visitor) == (again.visitor, again.lifetime_visitor)
    assert first.visitor != other.visitor
    assert first.lifetime_visitor != other.lifetime_visitor


def test_should_key_all_time_visitors_with_the_secret_or_the_busuanzi_cookie() -> None:
    one = judge(hit()).view
    other_secret = judge(hit(), secret="t" * 32).view
    cookie = judge(hit(visitor_token="A" * 32)).view
    same_cookie = judge(hit(visitor_token="A" * 32, ip="198.51.100.1")).view
    assert one is not None
    assert other_secret is not None
    assert cookie is not None
    assert same_cookie is not None
    assert one.lifetime_visitor != other_secret.lifetime_visitor
    assert cookie.lifetime_visitor == same_cookie.lifetime_visitor != one.lifetime_visitor


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"url": "not a url"}, "malformed"),
        ({"url": "ftp://example.com/"}, "malformed"),
        ({"url": "https://example.com/" + "x" * 3000}, "malformed"),
        ({"url": "http://[::1/"}, "malformed"),
        ({"event": ""}, "malformed"),
        ({"event": "e" * 101}, "malformed"),
        ({"site_id": "nosuchsite00"}, "unknown-site"),
        ({"site_id": "../etc"}, "unknown-site"),
        ({"url": "https://example.net/"}, "host-not-allowed"),
        ({"dnt": True}, "dnt"),
        ({"user_agent": "Googlebot/2.1 (+http://www.google.com/bot.html)"}, "bot"),
        ({"user_agent": ""}, "bot"),
    ],
)
def test_should_reject_with_the_first_failing_reason(changes: dict[str, Any], reason: str) -> None:
    verdict = judge(hit(**changes))
    assert (verdict.accepted, verdict.reason, verdict.view) == (False, reason, None)


def test_should_count_dnt_readers_when_the_site_does_not_honour_dnt() -> None:
    relaxed = SiteInfo(SITE.id, SITE.domain, SITE.hosts, False, False, None)
    assert judge(hit(dnt=True), site=relaxed).accepted


def test_should_find_the_site_by_host_when_no_id_is_given() -> None:
    verdict = judge(hit(site_id=None, url="https://blog.example.org/p", source="busuanzi"))
    assert verdict.accepted
    assert verdict.view is not None
    assert verdict.view.hostname == "blog.example.org"
    assert verdict.view.source == "busuanzi"
    assert judge(hit(site_id=None, url="https://unknown.example/")).reason == "unknown-site"


def test_should_keep_raw_hits_only_for_sites_with_retention() -> None:
    keeping = SiteInfo(SITE.id, SITE.domain, SITE.hosts, False, True, 30)
    kept = judge(hit(), site=keeping).view
    plain = judge(hit()).view
    assert kept is not None
    assert plain is not None
    assert (kept.keep_raw, plain.keep_raw) == (True, False)
