"""The dashboard's account side in headless Chromium: the language switch and
Accept-Language, a site's settings (add a member, copy a snippet, turn sharing on), a
share link opened in a fresh signed-out browser and then revoked, API tokens made (shown
once) and revoked; the CSP holds (no console errors); screenshots at desktop and phone
width."""

from __future__ import annotations

import time
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, expect

from tests.browser.conftest import READER_USER_AGENT, reader_context
from tests.browser.test_dashboard import PHONE_WIDTH, _screenshot_dir
from tests.e2e.server import Server

PASSWORD = "browser-admin-password"


def _watch(page: Page, allowed: tuple[str, ...] = ()) -> list[str]:
    """Console errors and page errors; ``allowed``: statuses of pages the test opens on
    purpose (Chromium logs a 4xx document as a failed load)."""
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        expected = any(f"status of {status}" in message.text for status in allowed)
        if message.type in {"error", "warning"} and not expected:
            problems.append(f"{message.type}: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"pageerror: {error}"))
    return problems


def _accounts(tracker: Server) -> tuple[str, str, str]:
    """An admin (who manages every site), a user to add as a member, and a new site."""
    stamp = time.monotonic_ns()
    owner, viewer = f"admin-{stamp}@example.test", f"member-{stamp}@example.test"
    for email, extra in ((owner, ["--admin"]), (viewer, [])):
        made = tracker.run_cli("users", "create", email, "--password", PASSWORD, *extra)
        assert made.returncode == 0, made.stderr
    made = tracker.run_cli("sites", "create", f"admin-{stamp}.example.test")
    assert made.returncode == 0, made.stderr
    return owner, viewer, made.stdout.strip().splitlines()[-1]


def _sign_in(page: Page, dashboard: str, email: str) -> None:
    page.goto(dashboard)
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("#sign-in button[type=submit]")
    expect(page.locator("#sign-out")).to_be_visible()


def test_should_switch_to_chinese_and_pick_it_from_accept_language(
    tracker: Server, browser: Browser
) -> None:
    chinese = browser.new_context(user_agent=READER_USER_AGENT, locale="zh-CN")
    page = chinese.new_page()
    problems = _watch(page)
    page.goto(f"{tracker.url}/dashboard/")
    expect(page.locator("h1")).to_have_text("登录")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    page.fill("#email", "nobody@example.test")
    page.fill("#password", "wrong")
    page.click("#sign-in button[type=submit]")
    expect(page.locator("#sign-in-error")).to_have_text("邮箱或密码错误。")
    page.get_by_role("button", name="English").click()
    expect(page.locator("h1")).to_have_text("Sign in")
    chinese.close()

    english = reader_context(browser)
    page = english.new_page()
    problems += _watch(page)
    page.goto(f"{tracker.url}/dashboard/")
    expect(page.locator("h1")).to_have_text("Sign in")
    page.get_by_role("button", name="中文").click()
    expect(page.locator("h1")).to_have_text("登录")
    page.reload()
    expect(page.locator("h1")).to_have_text("登录")  # the choice is kept
    english.close()
    # The wrong password's 401 is the one failed load Chromium reports.
    assert [p for p in problems if "status of 401" not in p] == []


def test_should_manage_members_snippets_share_links_and_tokens(
    tracker: Server, browser: Browser, tmp_path: Path
) -> None:
    owner, member, site = _accounts(tracker)
    dashboard = f"{tracker.url}/dashboard/"
    shots = _screenshot_dir(tmp_path)
    context = reader_context(browser)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=tracker.url)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    problems = _watch(page, allowed=("422",))  # the unknown member's email, on purpose
    _sign_in(page, dashboard, owner)

    page.goto(f"{dashboard}sites/{site}")
    page.click("#settings-link")
    expect(page.locator("#site-options")).to_be_visible()

    page.fill("#member-email", member)
    page.select_option("#member-role", "viewer")
    page.click("#add-member button[type=submit]")
    expect(page.locator("#members tr", has_text=member)).to_be_visible()
    page.fill("#member-email", "nobody-at-all@example.test")
    page.click("#add-member button[type=submit]")
    expect(page.locator("#members-status")).to_contain_text("no user with email")

    page.click('button[data-copy="snippet-pt"]')
    expect(page.locator('button[data-copy="snippet-pt"]')).to_have_text("Copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert f'data-site="{site}"' in copied
    assert copied.startswith(f'<script defer src="{tracker.url}/pt.js"')

    expect(page.locator("#sharing-off")).to_be_visible()
    page.check("#sharing")
    page.click("#site-options button[type=submit]")
    expect(page.locator("#sharing-off")).to_have_count(0)
    expect(page.locator("#sharing")).to_be_checked()
    page.fill("#share-label", "press kit")
    page.click("#add-share button[type=submit]")
    expect(page.locator("#share-created")).to_be_visible()
    link = page.input_value("#share-url")
    assert link.startswith(f"{dashboard}share/pts_")
    expect(page.locator("#shares tr", has_text="press kit")).to_contain_text(link[-43:][:6])
    page.screenshot(path=str(shots / "dashboard-settings-desktop.png"), full_page=True)

    problems += _open_shared(browser, link, site, shots)

    page.reload()
    expect(page.locator("#shares tr", has_text="press kit")).to_be_visible()
    assert link.rsplit("/", 1)[1] not in page.content()  # shown once only
    page.click("#shares button.revoke-share")
    expect(page.locator("#shares tbody tr")).to_have_count(0)
    problems += _open_revoked(browser, link)

    _tokens(page, dashboard, shots)
    phone_problems = _phone_screenshots(browser, dashboard, owner, site, shots)
    context.close()
    assert problems + phone_problems == []


def _open_shared(browser: Browser, link: str, site: str, shots: Path) -> list[str]:
    """The link in a fresh browser nobody signed in to: the site page, read-only."""
    stranger = reader_context(browser)
    page = stranger.new_page()
    problems = _watch(page)
    answer = page.goto(link)
    assert answer is not None
    assert answer.status == 200
    expect(page.locator("#shared-notice")).to_be_visible()
    expect(page.locator("#chart")).to_have_attribute("data-ready", "true")
    expect(page.locator("#settings-link")).to_have_count(0)
    expect(page.locator("#sign-out")).to_have_count(0)
    page.get_by_role("link", name="7 days").click()
    expect(page.locator("#chart")).to_have_attribute("data-ready", "true")
    assert "/dashboard/share/" in page.url
    page.screenshot(path=str(shots / "dashboard-share-desktop.png"), full_page=True)
    settings = page.goto(link.replace("/share/", "/sites/").split("/sites/")[0] + f"/sites/{site}")
    assert settings is not None
    assert settings.status == 401  # the link opens the statistics, not the account
    stranger.close()
    return [p for p in problems if "status of 401" not in p]


def _open_revoked(browser: Browser, link: str) -> list[str]:
    stranger = browser.new_context(user_agent=READER_USER_AGENT, locale="zh-CN")
    page = stranger.new_page()
    problems = _watch(page, allowed=("410",))
    answer = page.goto(link)
    assert answer is not None
    assert answer.status == 410
    expect(page.locator("h1")).to_have_text("此分享链接已被撤销")
    stranger.close()
    return problems


def _tokens(page: Page, dashboard: str, shots: Path) -> None:
    page.goto(dashboard)
    page.get_by_role("link", name="Tokens").click()
    page.fill("#token-name", "deploy script")
    page.fill("#token-password", PASSWORD)
    page.click("#add-token button[type=submit]")
    expect(page.locator("#token-created")).to_be_visible()
    token = page.input_value("#token-value")
    assert token.startswith("pt_")
    expect(page.locator("#tokens tr", has_text="deploy script")).to_contain_text(token[:9])
    page.screenshot(path=str(shots / "dashboard-tokens-desktop.png"), full_page=True)
    page.reload()
    row = page.locator("#tokens tr", has_text="deploy script")
    expect(row).to_contain_text(token[:9])
    expect(page.locator("#token-created")).to_be_hidden()
    assert token not in page.content()
    row.locator("button.revoke-token").click()
    expect(page.locator("#tokens tr", has_text="deploy script")).to_have_count(0)


def _phone_screenshots(
    browser: Browser, dashboard: str, owner: str, site: str, shots: Path
) -> list[str]:
    phone: BrowserContext = browser.new_context(
        user_agent=READER_USER_AGENT,
        viewport={"width": PHONE_WIDTH, "height": 844},
        color_scheme="dark",
        locale="zh-CN",
    )
    page = phone.new_page()
    problems = _watch(page)
    _sign_in(page, dashboard, owner)
    for name, path in (("settings", f"sites/{site}/settings"), ("tokens", "tokens")):
        page.goto(f"{dashboard}{path}")
        expect(page.locator("h1")).to_be_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE_WIDTH, f"the {name} page scrolls sideways at phone width"
        page.screenshot(path=str(shots / f"dashboard-{name}-phone-dark-zh.png"), full_page=True)
    phone.close()
    return problems
