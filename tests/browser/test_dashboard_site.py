"""The site page and the sites list in headless Chromium, with hits through the real
ingest endpoint: the browser's time zone lands in the URL, presets and the zone picker
change the view, a click on a row filters the totals and the chart (and the CSV download)
until its chip is removed, live visitors move by themselves (Redis mode), axe-core finds
no serious or critical violation, the CSP holds (no console errors), and each page's
scripts and styles stay under 100 KB gzipped. Screenshots at desktop and phone width (dark)
land in ``PT_SCREENSHOT_DIR``."""

from __future__ import annotations

import csv
import gzip
import io
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import requests
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import READER_USER_AGENT
from tests.browser.test_dashboard import PASSWORD, PHONE_WIDTH, _created, _screenshot_dir, _watch
from tests.e2e.server import Server

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
WINDOWS_AGENT = READER_USER_AGENT.replace("X11; Linux x86_64", "Windows NT 10.0; Win64; x64")
BUDGET_BYTES = 100 * 1024
DESKTOP = {"width": 1280, "height": 900}


def _hit(tracker: Server, site: str, url: str, agent: str, referrer: str = "") -> None:
    answer = requests.post(
        f"{tracker.url}/api/v1/hits",
        json={"site": site, "url": url, "referrer": referrer},
        headers={"User-Agent": agent},
        timeout=10,
    )
    assert answer.status_code == 202
    assert answer.headers.get("X-Page-Tracker-Reason", "accepted") == "accepted"


def _owner_with_site(tracker: Server, domain: str) -> tuple[str, str]:
    email = f"owner-{time.monotonic_ns()}@example.test"
    made = tracker.run_cli("users", "create", email, "--password", PASSWORD, "--admin")
    assert made.returncode == 0, made.stderr
    made = tracker.run_cli("sites", "create", domain)
    assert made.returncode == 0, made.stderr
    return email, _created(made.stdout)


def _signed_in(browser: Browser, tracker: Server, email: str, **options: Any) -> BrowserContext:
    context = browser.new_context(user_agent=READER_USER_AGENT, **options)
    context.set_default_timeout(15_000)
    answer = context.request.post(
        f"{tracker.url}/api/v1/session", data={"email": email, "password": PASSWORD}
    )
    assert answer.status == 200
    return context


def _serious_violations(page: Page) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now."""
    page.add_script_tag(content=AXE.read_text())
    found = page.evaluate(
        "() => axe.run(document, {resultTypes: ['violations']}).then(r => r.violations"
        ".filter(v => ['serious', 'critical'].includes(v.impact))"
        ".map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', ')))"
    )
    return list(found)


def _total(page: Page, name: str) -> Any:
    return expect(page.locator(f"#total-{name} .big"))


def _downloaded_csv_totals(page: Page) -> tuple[int, int]:
    """Page views and visitors of the CSV the page's download link gives."""
    with page.expect_download() as waiting:
        page.locator("#csv").click()
    download = waiting.value
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text())))
    return sum(int(row["pageviews"]) for row in rows), sum(int(row["visitors"]) for row in rows)


def _expect_tables_to_follow_the_os_filter(page: Page) -> None:
    # Every table follows the filter: the pages table lists the Windows view's page only,
    # and a table of another dimension says it cannot follow (no number, not a wrong one).
    pages = page.locator("#table-pages")
    expect(pages.get_by_role("link", name="Filter by /", exact=True)).to_have_count(1)
    expect(pages.get_by_role("link", name="Filter by /post", exact=True)).to_have_count(0)
    expect(page.locator("#table-browsers .not-filtered")).to_be_visible()


def _expect_a_page_row_to_narrow_the_tables(page: Page) -> None:
    # A click on a page row narrows the dimension tables to that page's views.
    page.locator("#table-pages").get_by_role("link", name="Filter by /post", exact=True).click()
    expect(page.locator("#filter-chip")).to_contain_text("/post")
    _total(page, "pageviews").to_have_text("1")
    expect(page.locator("#table-referrers")).to_contain_text("Nothing in this range")
    expect(page.locator("#table-os tbody tr")).to_have_count(1)
    expect(page.locator("#table-os").get_by_role("link", name="Filter by Windows")).to_have_count(0)
    page.locator("#filter-chip .remove").click()
    expect(page.locator("#filter-chip")).to_have_count(0)


def test_should_filter_by_a_row_follow_range_and_zone_and_download_the_csv(
    tracker: Server, browser: Browser, tmp_path: Path
) -> None:
    email, site = _owner_with_site(tracker, "site.example.test")
    home = "https://site.example.test/"
    _hit(tracker, site, home, READER_USER_AGENT, "https://news.example.net/a")
    _hit(tracker, site, f"{home}post", READER_USER_AGENT)
    _hit(tracker, site, home, WINDOWS_AGENT)
    shots = _screenshot_dir(tmp_path)
    context = _signed_in(
        browser, tracker, email, viewport=DESKTOP, timezone_id="Asia/Tokyo", accept_downloads=True
    )
    page = context.new_page()
    problems = _watch(page)

    page.goto(f"{tracker.url}/dashboard/")
    # An admin sees the sites other browser tests of the session made too: this site's row.
    expect(
        page.locator("#sites tr", has_text="site.example.test").locator(".spark polyline")
    ).to_have_count(1)
    page.screenshot(path=str(shots / "dashboard-sites-desktop.png"), full_page=True)

    page.get_by_role("link", name="site.example.test").click()
    # No tz in the address: the browser's zone is put there, and the picker shows it.
    expect(page).to_have_url(re.compile(r"tz=Asia%2FTokyo"))
    expect(page.locator("#tz")).to_have_value("Asia/Tokyo")
    _total(page, "pageviews").to_have_text("3")
    expect(page.locator("#chart")).to_have_attribute("data-ready", "true")
    expect(page.locator("#live-text")).to_have_text("Live visitors need Redis mode")

    page.get_by_role("link", name="7 days", exact=True).click()
    expect(page).to_have_url(re.compile(r"range=7d"))
    expect(page.locator("#chart-table tbody tr")).to_have_count(7)
    page.locator("#tz").select_option("UTC")
    expect(page).to_have_url(re.compile(r"tz=UTC"))
    expect(page.locator("#range-text")).to_contain_text("(UTC)")
    page.locator("#interval").select_option("hour")
    expect(page).to_have_url(re.compile(r"interval=hour"))
    expect(page.locator("#chart")).to_have_attribute("data-ready", "true")
    expect(page.locator("#chart-table tbody tr")).to_have_count(7 * 24)
    _total(page, "pageviews").to_have_text("3")

    # A click on a row filters totals and chart; the chip names the filter.
    page.locator("#table-os").get_by_role("link", name="Filter by Windows").click()
    expect(page.locator("#filter-chip")).to_contain_text("Windows")
    _total(page, "pageviews").to_have_text("1")
    _total(page, "visitors").to_have_text("1")
    # An OS filter counts whole UTC days: the step picker shows the step that is shown.
    expect(page.locator("#interval")).to_have_value("day")
    expect(page.locator("#chart")).to_have_attribute("data-ready", "true")
    _expect_tables_to_follow_the_os_filter(page)
    page.screenshot(path=str(shots / "dashboard-site-filtered-desktop.png"), full_page=True)
    assert _downloaded_csv_totals(page) == (1, 1)

    page.locator("#filter-chip .remove").click()
    expect(page.locator("#filter-chip")).to_have_count(0)
    _total(page, "pageviews").to_have_text("3")
    expect(page).to_have_url(re.compile(r"interval=hour"))  # the rest of the view stays
    expect(page.locator("#interval")).to_have_value("hour")
    _expect_a_page_row_to_narrow_the_tables(page)
    page.get_by_role("link", name="30 days", exact=True).click()
    expect(page.locator("#chart")).to_have_attribute("data-ready", "true")
    page.screenshot(path=str(shots / "dashboard-site-page-desktop.png"), full_page=True)
    context.close()
    assert problems == []


def test_should_pass_axe_and_fit_a_phone_in_dark_mode(
    tracker: Server, browser: Browser, tmp_path: Path
) -> None:
    email, site = _owner_with_site(tracker, "phone.example.test")
    _hit(
        tracker,
        site,
        "https://phone.example.test/",
        READER_USER_AGENT,
        "https://news.example.net/a",
    )
    shots = _screenshot_dir(tmp_path)
    site_page = f"{tracker.url}/dashboard/sites/{site}?tz=UTC"
    for scheme in ("light", "dark"):
        # axe's script is added to the page, which the CSP forbids: this context alone
        # bypasses it (the other tests check that the CSP holds).
        context = _signed_in(
            browser, tracker, email, viewport=DESKTOP, color_scheme=scheme, bypass_csp=True
        )
        page = context.new_page()
        for url in (f"{tracker.url}/dashboard/", site_page, f"{site_page}&page=/"):
            page.goto(url)
            if "sites/" in url:
                expect(page.locator("#chart")).to_have_attribute("data-ready", "true")
            assert _serious_violations(page) == [], (scheme, url)
        context.close()

    phone = _signed_in(
        browser,
        tracker,
        email,
        viewport={"width": PHONE_WIDTH, "height": 844},
        color_scheme="dark",
        is_mobile=True,
        has_touch=True,
    )
    page = phone.new_page()
    problems = _watch(page)
    page.goto(f"{tracker.url}/dashboard/")
    page.screenshot(path=str(shots / "dashboard-sites-phone-dark.png"), full_page=True)
    page.goto(site_page)
    expect(page.locator("#chart")).to_have_attribute("data-ready", "true")
    width: int = page.evaluate("document.documentElement.scrollWidth")
    page.screenshot(path=str(shots / "dashboard-site-page-phone-dark.png"), full_page=True)
    phone.close()
    assert width <= PHONE_WIDTH, "the site page scrolls sideways at phone width"
    assert problems == []


def test_should_keep_each_pages_scripts_and_styles_under_100_kb_gzipped(
    tracker: Server, browser: Browser
) -> None:
    email, site = _owner_with_site(tracker, "budget.example.test")
    context = _signed_in(browser, tracker, email, viewport=DESKTOP)
    for url in (f"{tracker.url}/dashboard/", f"{tracker.url}/dashboard/sites/{site}?tz=UTC"):
        page = context.new_page()
        loaded: list[str] = []
        page.on("requestfinished", lambda request, into=loaded: into.append(request.url))
        page.goto(url)
        page.wait_for_load_state("networkidle")
        page.close()
        assets = [found for found in loaded if re.search(r"\.(js|css)(\?|$)", found)]
        assert any(found.endswith("dashboard.js") for found in assets)
        size = sum(len(gzip.compress(requests.get(a, timeout=10).content, 9)) for a in assets)
        assert size < BUDGET_BYTES, f"{url}: {size} bytes of JS and CSS gzipped"
    context.close()


@pytest.fixture
def redis_tracker(
    tmp_path_factory: pytest.TempPathFactory, redis_url: str, redis_prefix: str
) -> Iterator[Server]:
    """A gunicorn page-tracker in Redis mode (live visitors come from Redis)."""
    workdir = tmp_path_factory.mktemp("redis-tracker")
    env = {
        "PAGE_TRACKER_ENV": "production",
        "SECRET_KEY": "browser-" + "r" * 32,
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": redis_prefix,
    }
    server = Server(workdir, env, workers=1)
    migrated = server.run_cli("db", "upgrade")
    assert migrated.returncode == 0, migrated.stderr
    yield server.start()
    server.stop()
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(f"{redis_prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()


def test_should_update_live_visitors_by_itself_when_a_hit_arrives(
    redis_tracker: Server, browser: Browser
) -> None:
    email, site = _owner_with_site(redis_tracker, "live.example.test")
    context = _signed_in(browser, redis_tracker, email, viewport=DESKTOP)
    page = context.new_page()
    problems = _watch(page)
    page.goto(f"{redis_tracker.url}/dashboard/sites/{site}?tz=UTC")
    expect(page.locator("#live")).to_have_attribute("data-count", "0")
    _hit(redis_tracker, site, "https://live.example.test/", READER_USER_AGENT)
    # The page asks every 15 seconds; no reload.
    expect(page.locator("#live")).to_have_attribute("data-count", "1", timeout=40_000)
    expect(page.locator("#live-text")).to_have_text("1 visitor in the last 5 minutes")
    context.close()
    assert problems == []
