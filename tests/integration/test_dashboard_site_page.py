"""The site page's choices through Flask's test client on each database: a range in a
time zone, a filter set by a row's link and removed by its chip (totals, chart source and
CSV follow it), tables paged with limit/offset, and the sites list's sparklines."""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient

from page_tracker import migrate
from page_tracker.db import DATABASE, get_session
from page_tracker.ingest.hits import RawHit
from page_tracker.ingest.record import record
from page_tracker.sites.services import create_site
from page_tracker.users.memberships import set_member
from page_tracker.users.models import MemberRole
from page_tracker.users.services import create_user

PASSWORD = "correct horse"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
# (UTC moment, path, ip, user agent, referrer); 193.99.144.80 is in Germany.
HITS = [
    ("2026-03-10T10:00", "/a", "8.8.8.8", FIREFOX, "https://news.example.net/x"),
    ("2026-03-10T11:00", "/b", "193.99.144.80", CHROME, None),
    ("2026-03-11T09:00", "/a", "193.99.144.80", CHROME, None),
    ("2026-03-12T23:30", "/a", "81.2.69.142", IPHONE, None),  # the 13th in Tokyo
]
RANGE = "range=custom&from=2026-03-10&to=2026-03-12"


@dataclass
class Site:
    app: Flask
    client: FlaskClient
    id: str

    def page(self, query: str) -> str:
        answer = self.client.get(f"/dashboard/sites/{self.id}?{query}")
        assert answer.status_code == 200, answer.get_data(as_text=True)
        return html.unescape(answer.get_data(as_text=True))

    def hit(self, at: str, path: str, ip: str, agent: str, referrer: str | None) -> None:
        raw = RawHit(
            site_id=self.id,
            url=f"https://mine.example{path}",
            user_agent=agent,
            ip=ip,
            referrer=referrer,
            title=None,
            source="js",
        )
        with self.app.app_context():
            moment = datetime.fromisoformat(at).replace(tzinfo=UTC)
            assert record(raw, now=moment).reason == "accepted"


@pytest.fixture
def site(clean_database: str, make_app: Callable[..., Flask]) -> Site:
    app = make_app(DATABASE_URL=clean_database)
    with app.app_context():
        migrate.upgrade(DATABASE.get(app).engine)
        session = get_session()
        me = create_user(session, "me@example.com", PASSWORD)
        mine = create_site(session, "mine.example")
        set_member(session, mine.id, me, MemberRole.VIEWER)
        session.commit()
        found = Site(app, app.test_client(), mine.id)
    signed_in = found.client.post(
        "/api/v1/session", json={"email": "me@example.com", "password": PASSWORD}
    )
    assert signed_in.status_code == 200
    for hit in HITS:
        found.hit(*hit)
    return found


def _big(text: str, total: str) -> str:
    found = re.search(rf'id="total-{total}">.*?<p class="big">([^<]*)</p>', text, re.S)
    assert found is not None
    return found.group(1)


def _href(text: str, pattern: str) -> str:
    found = re.search(rf'href="([^"]*{pattern}[^"]*)"', text)
    assert found is not None, pattern
    return found.group(1)


def test_should_count_the_range_in_the_chosen_time_zone(site: Site) -> None:
    utc = site.page(f"{RANGE}&tz=UTC")
    assert _big(utc, "pageviews") == "4"
    tokyo = site.page(f"{RANGE}&tz=Asia/Tokyo")
    assert _big(tokyo, "pageviews") == "3"  # 23:30 UTC on the 12th is the 13th there
    assert "tz=Asia/Tokyo" in _href(tokyo, "format=csv")
    assert "<option selected>Asia/Tokyo</option>" in tokyo
    hourly = site.page(f"{RANGE}&tz=UTC&interval=hour")
    assert "interval=hour" in _href(hourly, "format=csv")


def test_should_filter_totals_chart_and_csv_by_a_rows_link_and_drop_it_by_the_chip(
    site: Site,
) -> None:
    whole = site.page(f"{RANGE}&tz=Europe/Berlin")
    germany = _href(whole, "country=DE")  # the row of the countries table
    assert "🇩🇪" in whole
    filtered = html.unescape(site.client.get(germany).get_data(as_text=True))
    assert _big(filtered, "pageviews") == "2"
    assert _big(filtered, "visitors") == "2"  # daily visitors, summed over the days
    assert 'id="filter-chip"' in filtered
    assert "counts whole UTC days" in filtered
    csv_link = _href(filtered, "format=csv")
    assert "country=DE" in csv_link
    assert "tz=UTC" in csv_link  # dimensions count UTC days
    download = site.client.get(csv_link)  # the session cookie is enough
    assert download.status_code == 200
    assert download.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(download.get_data(as_text=True))))
    assert sum(int(row["pageviews"]) for row in rows) == 2
    chip = re.search(r'<a href="([^"]*)" class="remove"', filtered)
    assert chip is not None
    assert "country=" not in chip.group(1)
    assert "tz=Europe" in chip.group(1)  # the rest of the view stays
    unfiltered = html.unescape(site.client.get(chip.group(1)).get_data(as_text=True))
    assert _big(unfiltered, "pageviews") == "3"  # in Berlin the last view is on the 13th
    assert 'id="filter-chip"' not in unfiltered


def test_should_filter_by_a_page_in_the_chosen_zone(site: Site) -> None:
    whole = site.page(f"{RANGE}&tz=Asia/Tokyo")
    page_a = site.client.get(_href(whole, "page=/a"))
    text = html.unescape(page_a.get_data(as_text=True))
    assert _big(text, "pageviews") == "2"  # the third view of /a is on the 13th there
    assert "counts whole UTC days" not in text
    assert "tz=Asia/Tokyo" in _href(text, "format=csv")


def _table(text: str, key: str) -> str:
    return text.split(f'id="table-{key}"')[1].split("</section>", maxsplit=1)[0]


def _rows(table: str) -> list[tuple[str, str]]:
    """(name, page views) of a table's rows."""
    row = r'aria-label="Filter by ([^"]*)".*?<td class="num">([^<]*)</td>'
    return [(name, views) for name, views in re.findall(row, table, re.S)]


def test_should_narrow_every_table_to_the_filters_and_combine_a_page_with_a_dimension(
    site: Site,
) -> None:
    # Given a page filter: every table lists only that page's views
    page_a = site.page(f"{RANGE}&tz=UTC&page=/a")
    assert _rows(_table(page_a, "pages")) == [("/a", "3")]
    assert sorted(_rows(_table(page_a, "countries"))) == [("DE", "1"), ("GB", "1"), ("US", "1")]
    assert _rows(_table(page_a, "referrers")) == [("news.example.net", "1")]
    assert "Totals, chart and tables count only the filtered views" in page_a
    # When a country row is clicked: the page filter stays beside it
    both_link = _href(_table(page_a, "countries"), "country=DE")
    assert "page=%2Fa" in both_link or "page=/a" in both_link
    both = html.unescape(site.client.get(both_link).get_data(as_text=True))
    assert _big(both, "pageviews") == "1"  # /a from Germany: the 11th only
    assert both.count('class="chip filter-chip"') == 2
    assert _rows(_table(both, "pages")) == [("/a", "1")]
    # A dimension table cannot follow another dimension's filter: it says so, no numbers
    browsers = _table(both, "browsers")
    assert "cannot follow the Country filter" in browsers
    assert "<td" not in browsers
    # Then removing the page chip keeps the country: the pages table lists Germany's pages
    remove_page = re.search(r'data-filter="page">.*?<a href="([^"]*)" class="remove"', both, re.S)
    assert remove_page is not None
    germany = html.unescape(site.client.get(remove_page.group(1)).get_data(as_text=True))
    assert _rows(_table(germany, "pages")) == [("/a", "1"), ("/b", "1")]
    assert _rows(_table(germany, "countries")) == [("DE", "2")]
    assert _big(germany, "pageviews") == "2"


def test_should_explain_two_dimension_filters_and_offer_to_drop_either(site: Site) -> None:
    answer = site.client.get(f"/dashboard/sites/{site.id}?{RANGE}&country=DE&browser=Chrome")
    assert answer.status_code == 422
    text = html.unescape(answer.get_data(as_text=True))
    assert "one of country, browser at a time" in text
    removals = text.split('id="filter-removals"')[1].split("</ul>")[0]
    links = re.findall(r'href="([^"]*)"', removals)
    assert len(links) == 2
    for link in links:
        kept = html.unescape(site.client.get(link).get_data(as_text=True))
        assert kept.count('class="chip filter-chip"') == 1


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_should_page_a_table_with_more_and_previous(site: Site) -> None:
    for number in range(12):
        site.hit("2026-03-11T12:00", f"/p{number:02d}", "8.8.8.8", FIREFOX, None)
    first = site.page(RANGE)
    pages = first.split('id="table-pages"')[1].split("</section>")[0]
    assert pages.count("<tr") == 11  # the heading and ten rows
    assert "1\u201310 of 14" in pages
    second = site.page(_href(pages, "pages_offset=10").split("?", 1)[1])
    pages = second.split('id="table-pages"')[1].split("</section>")[0]
    assert pages.count("<tr") == 5
    assert "11\u201314 of 14" in pages
    assert 'rel="prev"' in pages
    assert 'rel="next"' not in pages


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_should_draw_a_sparkline_of_the_last_30_days_per_site(site: Site) -> None:
    today = datetime.now(UTC).replace(microsecond=0).isoformat()[:16]
    site.hit(today, "/today", "8.8.8.8", FIREFOX, None)
    text = site.client.get("/dashboard/").get_data(as_text=True)
    line = re.search(r'<polyline points="([^"]*)"', text)
    assert line is not None
    points = [tuple(float(v) for v in pair.split(",")) for pair in line.group(1).split()]
    assert len(points) == 30
    assert points[-1][1] < points[0][1]  # today's view at the top, the empty first day low


def test_should_list_entry_pages_with_entrances_and_link_each_to_its_page(site: Site) -> None:
    text = site.page(f"{RANGE}&tz=UTC")
    table = text.split('id="table-entry_pages"')[1].split("</section>")[0]
    assert "<caption>Entry pages</caption>" in table
    assert ">Entrances</th>" in table
    rows = re.findall(r'<a href="[^"]*"[^>]*>\s*([^<]*)</a></td>\s*<td class="num">(\d+)</td>'
                      r'<td class="num">(\d+)</td>', table)  # fmt: skip
    # each visitor's first page of each UTC day: /a on the 10th, 11th and 12th, /b on the 10th
    assert rows == [("/a", "3", "3"), ("/b", "1", "1")]
    page_a = site.client.get(_href(table, "page=/a"))
    assert _big(html.unescape(page_a.get_data(as_text=True)), "pageviews") == "3"
