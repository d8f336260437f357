"""Browser tests: Debian's headless Chromium (``/usr/bin/chromium``) driven by Playwright.

``make test`` (target ``chromium``) installs Chromium when it is missing; Playwright never
downloads a browser of its own. Pages under test are reached by real-looking host names
(``blog.example.test``, or a third-party script host such as ``busuanzi.ibruce.info``)
that :func:`launch_browser` maps to local servers with ``--host-resolver-rules``, so
``location.hostname``, ``Referer`` and cross-origin rules behave as on the web.

The browser presents a regular desktop Chrome user agent: page-tracker does not count
headless browsers (their ``HeadlessChrome`` token marks them as bots), and these tests
play a reader, not a crawler.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Playwright, sync_playwright

from tests.e2e.server import Server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
)
READER_USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/156.0.0.0 Safari/537.36"
)
BROWSER_TIMEOUT_S = 180


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser" in str(item.path):
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.timeout(BROWSER_TIMEOUT_S))


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make chromium` (make test does)")
    with sync_playwright() as driver:
        yield driver


def _launch(playwright: Playwright, host_rules: Mapping[str, str]) -> Browser:
    args = list(CHROMIUM_ARGS)
    if host_rules:
        rules = ", ".join(f"MAP {host} {address}" for host, address in host_rules.items())
        args.append(f"--host-resolver-rules={rules}")
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=args)


@pytest.fixture
def launch_browser(playwright: Playwright) -> Iterator[Callable[[Mapping[str, str]], Browser]]:
    """Start Chromium with ``{host name: "127.0.0.1:PORT"}`` mapped; closed after the test."""
    browsers: list[Browser] = []

    def launch(host_rules: Mapping[str, str]) -> Browser:
        browsers.append(_launch(playwright, host_rules))
        return browsers[-1]

    yield launch
    for browser in browsers:
        browser.close()


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """One Chromium for tests that need no host mapping."""
    shared = _launch(playwright, {})
    yield shared
    shared.close()


def reader_context(browser: Browser, user_agent: str = READER_USER_AGENT) -> BrowserContext:
    """A fresh profile (no cookies, no cache) that looks like a reader's desktop browser."""
    context = browser.new_context(user_agent=user_agent)
    context.set_default_timeout(15_000)
    return context


@pytest.fixture(scope="session")
def tracker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A real page-tracker server on embedded SQLite, migrated, shared by the session's
    browser tests (each test creates its own sites, so their counts stay exact).

    Create sites with ``tracker.run_cli("sites", "create", DOMAIN)``.
    """
    workdir = tmp_path_factory.mktemp("tracker")
    env = {"PAGE_TRACKER_ENV": "production", "SECRET_KEY": "browser-" + "k" * 32}
    server = Server(workdir, env, workers=2)
    migrated = server.run_cli("db", "upgrade")
    assert migrated.returncode == 0, migrated.stderr
    yield server.start()
    server.stop()
