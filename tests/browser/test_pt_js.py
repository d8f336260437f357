"""pt.js in headless Chromium on a reader's page: load, SPA navigation, back button."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path

import requests
from playwright.sync_api import Browser

from tests.browser.conftest import reader_context
from tests.browser.static import StaticSite
from tests.e2e.server import Server

PAGE = """<!doctype html>
<html><head><title>A post</title>
<script defer src="http://stats.example.test/pt.js" data-site="{site}"></script>
</head><body>
<a id="next" href="/spa/next">next</a>
<script>
  document.getElementById("next").addEventListener("click", function (event) {{
    event.preventDefault();
    history.pushState({{}}, "", "/spa/next");
  }});
</script>
</body></html>
"""


def counters(tracker: Server, site: str, path: str) -> dict[str, int]:
    response = requests.get(f"{tracker.url}/api/v1/counters/{site}?path={path}", timeout=10)
    response.raise_for_status()
    data: dict[str, int] = response.json()
    return data


def wait_for(tracker: Server, site: str, path: str, site_pv: int) -> dict[str, int]:
    """Beacons are asynchronous: poll until the expected total arrived (or time out)."""
    deadline = time.monotonic() + 20
    found = counters(tracker, site, path)
    while found["site_pv"] < site_pv and time.monotonic() < deadline:
        time.sleep(0.2)
        found = counters(tracker, site, path)
    return found


def test_should_count_the_load_and_each_spa_navigation(
    tracker: Server, tmp_path: Path, launch_browser: Callable[[Mapping[str, str]], Browser]
) -> None:
    created = tracker.run_cli("sites", "create", "blog.example.test", "--public-counters")
    assert created.returncode == 0, created.stderr
    site = created.stdout.strip().splitlines()[-1]
    (tmp_path / "post.html").write_text(PAGE.format(site=site))

    with StaticSite(tmp_path) as blog:
        browser = launch_browser(
            {"blog.example.test": blog.address, "stats.example.test": f"127.0.0.1:{tracker.port}"}
        )
        context = reader_context(browser)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))

        page.goto("http://blog.example.test/post.html")
        assert wait_for(tracker, site, "/post.html", 1)["page_pv"] == 1

        page.click("#next")  # pushState
        assert page.evaluate("location.pathname") == "/spa/next"
        assert wait_for(tracker, site, "/spa/next", 2)["page_pv"] == 1

        # replaceState to the same URL is no new page view; the back button (popstate) is.
        page.evaluate("history.replaceState({}, '', location.href)")
        page.go_back()
        assert page.evaluate("location.pathname") == "/post.html"
        found = wait_for(tracker, site, "/post.html", 3)
        context.close()

    assert errors == []
    assert found == {"site_pv": 3, "site_uv": 1, "page_pv": 2, "page_uv": 1}


def test_should_serve_a_small_script(tracker: Server) -> None:
    response = requests.get(
        f"{tracker.url}/pt.js", headers={"Accept-Encoding": "identity"}, timeout=10
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/javascript")
    import gzip  # noqa: PLC0415

    assert len(gzip.compress(response.content, 9)) < 2048
    again = requests.get(
        f"{tracker.url}/pt.js", headers={"If-None-Match": response.headers["ETag"]}, timeout=10
    )
    assert again.status_code == 304
