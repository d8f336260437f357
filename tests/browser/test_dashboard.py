"""The dashboard in headless Chromium: a wrong password, signing in, the sites list, the
site page with totals and the chart after hits through the real ingest endpoint, no
console or CSP errors; screenshots at desktop and phone width."""

from __future__ import annotations

import os
import time
from pathlib import Path

import requests
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from tests.browser.conftest import READER_USER_AGENT, reader_context
from tests.e2e.server import Server

PASSWORD = "browser-dashboard-password"
PHONE_WIDTH = 390
OTHER_AGENT = READER_USER_AGENT.replace("X11; Linux x86_64", "Windows NT 10.0; Win64; x64")


def _created(result_stdout: str) -> str:
    return result_stdout.strip().splitlines()[-1]


def _send_hits(tracker: Server, site: str) -> None:
    """Three page views by two readers, through POST /api/v1/hits as pt.js sends them."""
    for path, agent in (("/", READER_USER_AGENT), ("/post", READER_USER_AGENT), ("/", OTHER_AGENT)):
        answer = requests.post(
            f"{tracker.url}/api/v1/hits",
            json={"site": site, "url": f"https://dash.example.test{path}", "referrer": ""},
            headers={"User-Agent": agent},
            timeout=10,
        )
        assert answer.status_code == 202
        assert answer.headers.get("X-Page-Tracker-Reason", "accepted") == "accepted"


def _watch(page: Page) -> list[str]:
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        # Chromium logs the answers the test asks for (the wrong password's 401, the
        # unknown site's 404) as failed loads; nothing else may appear.
        url = message.location.get("url", "")
        expected = (url.endswith("/api/v1/session") and "401" in message.text) or (
            url.endswith("/sites/zzzzzzzzzzzz") and "404" in message.text
        )
        if message.type in {"error", "warning"} and not expected:
            problems.append(f"{message.type}: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"pageerror: {error}"))
    return problems


def _screenshot_dir(tmp_path: Path) -> Path:
    # CI keeps PT_SCREENSHOT_DIR as an artifact; locally they land in the test's temp dir.
    found = Path(os.environ.get("PT_SCREENSHOT_DIR") or tmp_path / "screenshots")
    found.mkdir(parents=True, exist_ok=True)
    return found


def test_should_sign_in_and_show_a_sites_page_views_on_the_chart(
    tracker: Server, browser: Browser, tmp_path: Path
) -> None:
    email = f"owner-{time.monotonic_ns()}@example.test"
    made = tracker.run_cli("users", "create", email, "--password", PASSWORD, "--admin")
    assert made.returncode == 0, made.stderr
    made = tracker.run_cli("sites", "create", "dash.example.test")
    assert made.returncode == 0, made.stderr
    site = _created(made.stdout)
    _send_hits(tracker, site)
    shots = _screenshot_dir(tmp_path)

    context = reader_context(browser)
    page = context.new_page()
    problems = _watch(page)

    page.goto(f"{tracker.url}/dashboard/")
    page.fill("#email", email)
    page.fill("#password", "not the password")
    page.click("#sign-in button[type=submit]")
    expect(page.locator("#sign-in-error")).to_have_text("Wrong email or password.")

    page.fill("#password", PASSWORD)
    page.click("#sign-in button[type=submit]")
    expect(page.locator("#sites")).to_be_visible()
    row = page.locator("#sites tr", has_text="dash.example.test")
    expect(row.locator("td.num").nth(0)).to_have_text("3")
    expect(row.locator("td.num").nth(1)).to_have_text("2")

    row.get_by_role("link").click()
    expect(page.locator("#total-pageviews .big")).to_have_text("3")
    expect(page.locator("#total-visitors .big")).to_have_text("2")
    expect(page.locator("#chart canvas")).to_be_visible()
    expect(page.locator("#chart")).to_have_attribute("data-ready", "true")
    expect(page.locator("#chart-table tbody tr")).to_have_count(30)
    expect(page.get_by_role("cell", name="/post")).to_be_visible()
    page.screenshot(path=str(shots / "dashboard-site-desktop.png"), full_page=True)

    page.get_by_role("link", name="Today").click()
    expect(page.locator("#chart")).to_have_attribute("data-ready", "true")
    expect(page.locator("#chart-table tbody tr")).to_have_count(24)

    page.goto(f"{tracker.url}/dashboard/sites/zzzzzzzzzzzz")
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()

    page.goto(f"{tracker.url}/dashboard/")
    page.click("#sign-out")
    expect(page.locator("#sign-in")).to_be_visible()
    context.close()

    width, phone_problems = _on_a_phone_in_dark_mode(
        browser, f"{tracker.url}/dashboard/", site, email, shots
    )
    assert width <= PHONE_WIDTH, "the site page scrolls sideways at phone width"
    assert problems + phone_problems == []


def _on_a_phone_in_dark_mode(
    browser: Browser, dashboard: str, site: str, email: str, shots: Path
) -> tuple[int, list[str]]:
    """Sign in at phone width with a dark system theme and screenshot the site page;
    returns the page's width and the console's problems."""
    phone = browser.new_context(
        user_agent=READER_USER_AGENT,
        viewport={"width": PHONE_WIDTH, "height": 844},
        color_scheme="dark",
    )
    small = phone.new_page()
    problems = _watch(small)
    small.goto(dashboard)
    small.fill("#email", email)
    small.fill("#password", PASSWORD)
    small.click("#sign-in button[type=submit]")
    expect(small.locator("#sites")).to_be_visible()
    small.goto(f"{dashboard}sites/{site}")
    expect(small.locator("#chart")).to_have_attribute("data-ready", "true")
    width: int = small.evaluate("document.documentElement.scrollWidth")
    small.screenshot(path=str(shots / "dashboard-site-phone-dark.png"), full_page=True)
    phone.close()
    return width, problems
