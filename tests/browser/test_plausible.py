"""The official Plausible tracker (npm ``plausible-tracker``, unmodified ES modules) on a
shop's page, sending to page-tracker's ``/api/event`` through its ``apiHost`` option."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest
from playwright.sync_api import Browser
from sqlalchemy.orm import sessionmaker

from page_tracker.db import make_engine
from page_tracker.stats.counters import Counters, DatabaseCounterReader
from tests.browser.conftest import reader_context
from tests.browser.static import StaticSite
from tests.e2e.server import Server

VENDOR = Path(__file__).resolve().parent / "vendor" / "plausible-tracker"
SHOP = "shop.example.test"
API = "stats.example.test"
# The package's ES modules import './lib/tracker' without an extension, as bundlers allow;
# an import map resolves those two specifiers for the browser, the files stay untouched.
PAGE = """<!DOCTYPE html>
<html>
<head>
  <meta charset="utf-8">
  <title>Products</title>
  <script type="importmap">{import_map}</script>
  <script type="module">
    import Plausible from '/vendor/plausible-tracker/index.js';
    const {{ enableAutoPageviews }} = Plausible({{
      domain: '{domain}',
      apiHost: 'http://{api}',
    }});
    window.statuses = [];
    const send = XMLHttpRequest.prototype.send;  // observe the answers, change nothing
    XMLHttpRequest.prototype.send = function (body) {{
      this.addEventListener('loadend', () => window.statuses.push(this.status));
      return send.call(this, body);
    }};
    enableAutoPageviews();
  </script>
</head>
<body><a id="next" href="#">next</a></body>
</html>
"""


def import_map() -> str:
    base = "/vendor/plausible-tracker/lib/"
    return json.dumps(
        {"imports": {base + name: f"{base}{name}.js" for name in ("tracker", "request")}}
    )


@pytest.fixture
def shop_site(tracker: Server) -> str:
    created = tracker.run_cli("sites", "create", SHOP)
    assert created.returncode == 0, created.stderr
    return created.stdout.strip().splitlines()[-1]


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[StaticSite]:
    shutil.copytree(VENDOR, tmp_path / "vendor" / "plausible-tracker")
    (tmp_path / "products").mkdir()
    (tmp_path / "products" / "index.html").write_text(
        PAGE.format(import_map=import_map(), domain=SHOP, api=API)
    )
    with StaticSite(tmp_path) as site:
        yield site


def read_counters(tracker: Server, site: str, path: str) -> Counters:
    """The tracker's all-time counters, read from its database like its endpoints do."""
    engine = make_engine(f"sqlite:///{tracker.workdir / 'var' / 'page-tracker.sqlite3'}")
    try:
        return DatabaseCounterReader(sessionmaker(engine)).read(site, path)
    finally:
        engine.dispose()


def test_should_count_page_views_sent_by_the_official_tracker(
    shop_site: str,
    shop: StaticSite,
    tracker: Server,
    launch_browser: Callable[[Mapping[str, str]], Browser],
) -> None:
    browser = launch_browser({SHOP: shop.address, API: tracker.url.removeprefix("http://")})
    context = reader_context(browser)
    page = context.new_page()

    # Given a reader opening the products page: the tracker sends a page view, we answer 202
    page.goto(f"http://{SHOP}/products/?utm_source=newsletter")
    page.wait_for_function("window.statuses.length === 1")
    assert page.evaluate("window.statuses") == [202]
    assert read_counters(tracker, shop_site, "/products/").page_pv == 1

    # When the single-page app navigates, the tracker's history hook sends another one
    page.evaluate("history.pushState({}, '', '/products/42')")
    page.wait_for_function("window.statuses.length === 2")
    assert page.evaluate("window.statuses") == [202, 202]
    assert read_counters(tracker, shop_site, "/products/42") == Counters(
        site_pv=2, site_uv=1, page_pv=1, page_uv=1
    )
    context.close()
