"""The interactive API docs (``/api/v1/docs``, vendored Swagger UI) in headless Chromium:
the page renders the whole document, the public routes included, from this server only."""

from __future__ import annotations

from urllib.parse import urlsplit

from playwright.sync_api import Browser

from tests.browser.conftest import reader_context
from tests.e2e.server import Server

PUBLIC_ROUTES = (
    "/pt.js",
    "/count.gif",
    "/api/v1/hits",
    "/api/event",
    "/busuanzi",
    "/busuanzi/2.3/busuanzi.pure.mini.js",
    "/badge/{site_id}.svg",
    "/api/v1/counters/{site_id}",
)


def test_should_render_every_operation_from_this_server_only(
    tracker: Server, browser: Browser
) -> None:
    context = reader_context(browser)
    page = context.new_page()
    hosts: set[str] = set()
    errors: list[str] = []
    page.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))
    page.on("pageerror", lambda error: errors.append(str(error)))

    page.goto(f"{tracker.url}/api/v1/docs")
    page.wait_for_selector(".opblock-summary-path")

    document = page.evaluate("fetch('openapi.json').then((answer) => answer.json())")
    shown = page.locator(".opblock-summary-path").all_inner_texts()
    expected = sum(len(operations) for operations in document["paths"].values())
    assert len(shown) == expected
    for path in PUBLIC_ROUTES:
        assert any(text.strip().replace("\u200b", "") == path for text in shown), path
    assert hosts == {urlsplit(tracker.url).netloc}
    assert not errors
    context.close()
